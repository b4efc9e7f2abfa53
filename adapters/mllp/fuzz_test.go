package mllp_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/codebridge/codebridge/adapters/mllp"
)

// FuzzReader checks that the Reader never panics, never returns a frame
// over its limit or an oversized head over HeadSize, always terminates, and
// that every frame it returns survives WriteFrame and a second read
// unchanged. Seeds are in testdata/fuzz/FuzzReader.
func FuzzReader(f *testing.F) {
	f.Add([]byte("\x0bMSH|^~\\&|A|B\rPID|1\r\x1c\x0d\n\x0bMSH|2\x1c\x0d"), uint16(1024))
	f.Add([]byte("junk\x0bA\x1cB\x1c\x1c\x0d\x0bold\x0bnew\x1c\x0d"), uint16(8))
	f.Fuzz(func(t *testing.T, data []byte, limit uint16) {
		max := int(limit) + 1
		r := mllp.NewReader(bytes.NewReader(data), max)
		var frames [][]byte
		for i := 0; ; i++ {
			if i > len(data) {
				t.Fatalf("more ReadFrame results (%d) than input bytes (%d)", i, len(data))
			}
			p, err := r.ReadFrame()
			if errors.Is(err, mllp.ErrFrameTooLarge) {
				if len(p) > min(max, mllp.HeadSize) {
					t.Fatalf("oversized head of %d bytes, limit %d", len(p), max)
				}
				continue
			}
			if err != nil {
				break
			}
			if len(p) > max {
				t.Fatalf("frame of %d bytes, limit %d", len(p), max)
			}
			frames = append(frames, p)
		}
		var buf bytes.Buffer
		for _, p := range frames {
			if err := mllp.WriteFrame(&buf, p); err != nil {
				t.Fatalf("WriteFrame of a frame read back: %v", err)
			}
		}
		again := mllp.NewReader(&buf, max)
		for i, want := range frames {
			got, err := again.ReadFrame()
			if err != nil {
				t.Fatalf("frame %d read again: %v", i, err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("frame %d mismatch (-want +got):\n%s", i, diff)
			}
		}
	})
}
