package mllp

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// The MLLP framing bytes.
const (
	StartBlock     byte = 0x0B // vertical tab: starts a frame
	EndBlock       byte = 0x1C // file separator: ends a frame when followed by CarriageReturn
	CarriageReturn byte = 0x0D // completes the end of a frame after EndBlock
)

// DefaultMaxFrame is the frame size limit used when none is given: 1 MiB,
// far above any ADT or DFT message.
const DefaultMaxFrame = 1 << 20

// HeadSize is the most bytes of an oversized frame a Reader keeps, enough
// for the MSH segment an Oversized refusal needs.
const HeadSize = 4096

var (
	// ErrFrameTooLarge is returned by ReadFrame, together with the frame's
	// first bytes, for a frame larger than the limit. The frame has been
	// skipped up to its end block, so the next ReadFrame reads the next
	// frame.
	ErrFrameTooLarge = errors.New("mllp: frame larger than the limit")

	// ErrInvalidPayload is returned by WriteFrame and AppendFrame for a
	// payload that would break the framing: one containing a start block or
	// an end block followed by a carriage return.
	ErrInvalidPayload = errors.New("mllp: payload contains framing bytes")
)

// Stats counts what a Reader has read and discarded so far.
type Stats struct {
	Frames    int64 // complete frames returned within the limit
	Oversized int64 // frames skipped for exceeding the limit
	Abandoned int64 // frames cut short by a start block before their end
	Skipped   int64 // bytes outside any frame (garbage, a stray CR or LF), discarded
}

// Reader reads MLLP frames from a byte stream. It is not safe for
// concurrent use.
type Reader struct {
	br       *bufio.Reader
	max      int
	buf      []byte // the frame being read; its head only once tooLarge
	tooLarge bool
	stats    Stats
	// started, when set, is called once per ReadFrame when a start block
	// is found; an error ends the ReadFrame with that error.
	started func() error
}

// NewReader returns a Reader of frames whose payload is at most max bytes
// (DefaultMaxFrame when max <= 0).
func NewReader(r io.Reader, max int) *Reader {
	if max <= 0 {
		max = DefaultMaxFrame
	}
	return &Reader{br: bufio.NewReaderSize(r, 16<<10), max: max}
}

// Stats reports the Reader's counters.
func (r *Reader) Stats() Stats { return r.stats }

// ReadFrame returns the payload of the next frame: the bytes between the
// start block and the end block + carriage return, in a new slice the caller
// owns. Bytes before a start block are skipped (and counted in
// Stats.Skipped). An end block not followed by a carriage return is data
// (MLLP release 2). A start block inside a frame abandons the frame read so
// far and starts a new one: HL7 content never contains 0x0B, so it marks a
// sender that restarted.
//
// Errors: io.EOF when the stream ends between frames; io.ErrUnexpectedEOF
// when it ends inside a frame; ErrFrameTooLarge, with the frame's first
// bytes (at most HeadSize and the limit), for a frame larger than the
// limit, after skipping to its end; otherwise the underlying reader's error.
func (r *Reader) ReadFrame() ([]byte, error) {
	if err := r.seekStart(); err != nil {
		return nil, err
	}
	if r.started != nil {
		if err := r.started(); err != nil {
			return nil, err
		}
	}
	frame, err := r.readPayload()
	r.buf, r.tooLarge = nil, false
	return frame, err
}

// seekStart discards bytes up to and including the next start block.
func (r *Reader) seekStart() error {
	for {
		chunk, err := r.br.ReadSlice(StartBlock)
		switch {
		case err == nil:
			r.stats.Skipped += int64(len(chunk) - 1)
			return nil
		case errors.Is(err, bufio.ErrBufferFull):
			r.stats.Skipped += int64(len(chunk))
		default:
			r.stats.Skipped += int64(len(chunk))
			return err
		}
	}
}

// readPayload reads after a start block up to the end of the frame.
func (r *Reader) readPayload() ([]byte, error) {
	for {
		chunk, err := r.br.ReadSlice(EndBlock)
		if err == nil {
			chunk = chunk[:len(chunk)-1]
		}
		r.add(chunk)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil {
			return nil, unexpected(err)
		}
		c, err := r.br.ReadByte()
		if err != nil {
			return nil, unexpected(err)
		}
		if c == CarriageReturn {
			return r.finish()
		}
		// An end block inside the payload is data; the byte after it
		// is read again, as it may itself be an end or start block.
		r.append([]byte{EndBlock})
		_ = r.br.UnreadByte()
	}
}

// add appends payload bytes, restarting the frame after a start block.
func (r *Reader) add(p []byte) {
	if i := bytes.LastIndexByte(p, StartBlock); i >= 0 {
		r.stats.Abandoned++
		r.buf, r.tooLarge = r.buf[:0], false
		p = p[i+1:]
	}
	r.append(p)
}

// append keeps payload bytes while within the limit, and only the head of
// the frame once it is over.
func (r *Reader) append(p []byte) {
	if r.tooLarge {
		return
	}
	if len(r.buf)+len(p) <= r.max {
		r.buf = append(r.buf, p...)
		return
	}
	r.tooLarge = true
	keep := min(r.max, HeadSize)
	if len(r.buf) < keep {
		r.buf = append(r.buf, p[:keep-len(r.buf)]...)
	}
	r.buf = r.buf[:keep]
}

func (r *Reader) finish() ([]byte, error) {
	if r.tooLarge {
		r.stats.Oversized++
		return r.buf, ErrFrameTooLarge
	}
	r.stats.Frames++
	if r.buf == nil {
		return []byte{}, nil
	}
	return r.buf, nil
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// AppendFrame appends payload, framed, to dst. It refuses (ErrInvalidPayload)
// a payload containing a start block, or an end block followed by a
// carriage return, which no receiver could read back intact.
func AppendFrame(dst, payload []byte) ([]byte, error) {
	if bytes.IndexByte(payload, StartBlock) >= 0 || bytes.Contains(payload, []byte{EndBlock, CarriageReturn}) {
		return dst, ErrInvalidPayload
	}
	dst = append(dst, StartBlock)
	dst = append(dst, payload...)
	return append(dst, EndBlock, CarriageReturn), nil
}

// WriteFrame writes payload to w as one frame, in a single Write. It
// refuses payloads AppendFrame refuses.
func WriteFrame(w io.Writer, payload []byte) error {
	frame, err := AppendFrame(make([]byte, 0, len(payload)+3), payload)
	if err != nil {
		return err
	}
	_, err = w.Write(frame)
	return err
}
