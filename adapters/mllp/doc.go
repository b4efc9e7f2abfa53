// Package mllp is the MLLP transport for HL7 v2 (CONTRACT.md §6): a server
// that speaks the Minimal Lower Layer Protocol over TCP, optionally TLS,
// and hands each complete frame to a Handler; the framing Reader and
// WriteFrame, usable on both sides; and a Client for tests, the bench
// command and users' tooling. It knows nothing of HL7 itself: parsing and
// the ACK are the Handler's (the HL7 v2 use case, mapping/v2ingest, wired
// in cmd).
//
// # Framing
//
// A frame is a start block 0x0B, the payload, then an end block 0x1C and a
// carriage return 0x0D (HL7 v2 Appendix C, MLLP release 1 and 2). The
// Reader follows release 2 exactly: only the pair 0x1C 0x0D ends a frame,
// so a 0x1C followed by anything else is payload. It is also forgiving of
// what real senders do:
//
//   - bytes before a start block, such as a stray LF or CR LF after the
//     previous frame's end, are skipped and counted (Stats.Skipped), never
//     an error;
//   - a frame may arrive split over any number of reads, and several
//     frames may arrive in one;
//   - a start block inside a frame abandons the frame read so far and
//     starts a new one (Stats.Abandoned): HL7 content never contains
//     0x0B, so it means a sender that gave up on a frame and started over;
//   - a frame larger than the limit is read to its end block and dropped,
//     keeping only its head (ErrFrameTooLarge), so the stream stays in step
//     and the next frame is read normally.
//
// Release 2's commit acknowledgements (the transport-level ACK/NAK frames)
// are not used: HL7 senders expect the application ACK, which the Handler
// returns as a response payload.
//
// # What the server guarantees
//
// Each connection is served by one goroutine that reads a frame, calls the
// Handler, writes the Handler's responses, and only then reads the next
// frame. So responses on a connection are in request order, and an ACK
// goes out only after the Handler has returned, that is after it committed.
// Handling is sequential per connection on purpose: HL7 senders wait for
// the ACK before sending the next message (original and enhanced mode
// alike), order on one interface is clinically meaningful (an A03 must not
// overtake its A01), and one goroutine per connection makes memory bounded
// by connections x MaxFrame. Throughput comes from concurrent connections,
// served in parallel. A sender that pipelines frames anyway still gets
// every response, in order.
//
// An oversized frame is answered with Server.Oversized(head), built from
// the frame's first HeadSize bytes (the MSH segment, for a proper AR/AE
// ACK), and the connection goes on; without Oversized it is closed. A
// Handler panic closes its connection (no response), and is logged without
// its value. Beyond MaxConns, new connections are closed at once.
//
// Shutdown closes the listeners and idle connections at once; a frame
// already started is still read, handled and answered, then its
// connection closed. Close drops everything at once. In both cases a
// sender resends what was not acknowledged, which the HL7 layer must treat
// as a duplicate (MSH-10).
//
// # Timeouts
//
// IdleTimeout closes a connection on which no frame starts within it,
// counted from the connection's start or its last response; bytes that are
// not a start block do not reset it. ReadTimeout is what a frame has to
// complete once its start block has arrived, and bounds the TLS handshake:
// a sender trickling bytes (slowloris) loses only its own connection.
// WriteTimeout bounds writing one frame's responses to a sender that does
// not read. Zero means no limit; production wiring sets all three.
//
// # Logs and metrics
//
// Logs carry connection-level events only (remote address, reason); never
// payload bytes, which are PHI. Metrics (NewMetrics) count connections
// open, accepted and rejected, frames in and out, oversized frames,
// framing errors by reason, skipped bytes, idle timeouts, handler panics,
// and handler time.
package mllp
