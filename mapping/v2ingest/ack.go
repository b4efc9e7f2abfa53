package v2ingest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/codebridge/codebridge/mapping/hl7v2"
)

// respond builds the answer frames. Original mode: one application ACK.
// Enhanced mode (MSH-15/16 valued): an accept ACK (CA/CE/CR) when MSH-15
// asks for it, then the application ACK when MSH-16 asks for it; both are
// sent after the commit, on the same connection, accept first.
func (s *Service) respond(hdr hl7v2.Header, msg *hl7v2.Message, a ack) [][]byte {
	build := func(code string) []byte {
		if msg != nil {
			return hl7v2.NewACK(msg, code, newControlID(), s.now(), a.details...)
		}
		return hl7v2.NewACKFromHeader(hdr, code, newControlID(), s.now(), a.details...)
	}
	if !hdr.Enhanced() {
		return [][]byte{build(a.code)}
	}
	ok := a.code == "AA"
	var out [][]byte
	if wants(hdr.AcceptAck, ok) {
		out = append(out, build("C"+a.code[1:]))
	}
	if wants(hdr.AppAck, ok) {
		out = append(out, build(a.code))
	}
	return out
}

// wants reads an HL7 table 0155 acknowledgment condition: AL always, NE
// never, ER only on errors, SU only on success; empty means never in
// enhanced mode.
func wants(cond string, ok bool) bool {
	switch cond {
	case "AL":
		return true
	case "ER":
		return !ok
	case "SU":
		return ok
	}
	return false
}

// newControlID is a fresh MSH-10 for an ACK: 20 characters, the HL7 ST
// limit of the field in v2.5.
func newControlID() string {
	var b [9]byte
	_, _ = rand.Read(b[:])
	return "CB" + hex.EncodeToString(b[:])
}

// Oversized returns the answer to a frame over max bytes (the MLLP
// server's limit, CODEBRIDGE_MLLP_MAX_FRAME_BYTES), built from the MSH at
// its head: AR, since sending it again will not help until the limit is
// raised or the message split.
func (s *Service) Oversized(max int) func(head []byte) []byte {
	return func(head []byte) []byte {
		s.metrics.observe("oversized", "AR", s.now(), s.now())
		return hl7v2.NewACKFromHeader(hl7v2.SalvageHeader(head), "AR", newControlID(), s.now(), hl7v2.ErrDetail{
			Segment: "MSH", Seq: 1, Code: "207", Text: fmt.Sprintf("message larger than the receiver's limit of %d bytes", max)})
	}
}
