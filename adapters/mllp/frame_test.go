package mllp_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"

	"github.com/codebridge/codebridge/adapters/mllp"
)

// readAll reads frames until a terminal error and describes each result:
// a frame's payload, "too large:" + head, or the error ending the stream.
func readAll(r *mllp.Reader) []string {
	var got []string
	for {
		p, err := r.ReadFrame()
		switch {
		case err == nil:
			got = append(got, describe(p))
		case errors.Is(err, mllp.ErrFrameTooLarge):
			got = append(got, "too large:"+describe(p))
		default:
			return append(got, "error:"+err.Error())
		}
	}
}

// describe shortens long payloads to their length and first bytes.
func describe(p []byte) string {
	if len(p) <= 40 {
		return string(p)
	}
	return fmt.Sprintf("%d bytes %s...", len(p), p[:10])
}

func TestReader(t *testing.T) {
	eof, unexpected := "error:"+io.EOF.Error(), "error:"+io.ErrUnexpectedEOF.Error()
	long := strings.Repeat("x", 40000)
	tests := []struct {
		name  string
		in    string
		max   int
		want  []string
		stats mllp.Stats
	}{
		{"one frame", "\x0bMSH|^~\\&\x1c\x0d", 0, []string{"MSH|^~\\&", eof}, mllp.Stats{Frames: 1}},
		{"several frames", "\x0ba\x1c\x0d\x0bb\x1c\x0d\x0bc\x1c\x0d", 0, []string{"a", "b", "c", eof}, mllp.Stats{Frames: 3}},
		{"stray LF after end", "\x0ba\x1c\x0d\n\x0bb\x1c\x0d\n", 0, []string{"a", "b", eof}, mllp.Stats{Frames: 2, Skipped: 2}},
		{"stray CR LF after end", "\x0ba\x1c\x0d\r\n\x0bb\x1c\x0d", 0, []string{"a", "b", eof}, mllp.Stats{Frames: 2, Skipped: 2}},
		{"garbage before start", "junk\x0ba\x1c\x0d", 0, []string{"a", eof}, mllp.Stats{Frames: 1, Skipped: 4}},
		{"CR segment separators are data", "\x0bMSH|a\rPID|b\r\x1c\x0d", 0, []string{"MSH|a\rPID|b\r", eof}, mllp.Stats{Frames: 1}},
		{"end block without CR is data", "\x0bA\x1cB\x1c\x0d", 0, []string{"A\x1cB", eof}, mllp.Stats{Frames: 1}},
		{"end block twice", "\x0bA\x1c\x1c\x0d", 0, []string{"A\x1c", eof}, mllp.Stats{Frames: 1}},
		{"end block then start block", "\x0bA\x1c\x0bB\x1c\x0d", 0, []string{"B", eof}, mllp.Stats{Frames: 1, Abandoned: 1}},
		{"start block restarts the frame", "\x0bold\x0bnew\x1c\x0d", 0, []string{"new", eof}, mllp.Stats{Frames: 1, Abandoned: 1}},
		{"empty frame", "\x0b\x1c\x0d", 0, []string{"", eof}, mllp.Stats{Frames: 1}},
		{"exactly the limit", "\x0b1234\x1c\x0d", 4, []string{"1234", eof}, mllp.Stats{Frames: 1}},
		{"over the limit, then the next frame", "\x0b12345\x1c\x0d\x0bok\x1c\x0d", 4,
			[]string{"too large:1234", "ok", eof}, mllp.Stats{Frames: 1, Oversized: 1}},
		{"end block without CR in an oversized frame", "\x0b12\x1c345\x1c\x0d\x0bok\x1c\x0d", 4,
			[]string{"too large:12\x1c3", "ok", eof}, mllp.Stats{Frames: 1, Oversized: 1}},
		{"start block in an oversized frame", "\x0b123456\x0bok\x1c\x0d", 4, []string{"ok", eof}, mllp.Stats{Frames: 1, Abandoned: 1}},
		{"head capped at HeadSize", "\x0b" + long + "\x1c\x0d", 10000,
			[]string{"too large:4096 bytes xxxxxxxxxx...", eof}, mllp.Stats{Oversized: 1}},
		{"frame longer than the read buffer", "\x0b" + long + "\x1c\x0d", 0, []string{"40000 bytes xxxxxxxxxx...", eof}, mllp.Stats{Frames: 1}},
		{"garbage longer than the read buffer", long + "\x0ba\x1c\x0d", 0, []string{"a", eof}, mllp.Stats{Frames: 1, Skipped: 40000}},
		{"end inside garbage", "junk", 0, []string{eof}, mllp.Stats{Skipped: 4}},
		{"end inside a frame", "\x0bMSH|", 0, []string{unexpected}, mllp.Stats{}},
		{"end after the end block", "\x0bMSH|\x1c", 0, []string{unexpected}, mllp.Stats{}},
		{"end inside an oversized frame", "\x0b123456", 4, []string{unexpected}, mllp.Stats{}},
	}
	readers := map[string]func(string) io.Reader{
		"whole":       func(s string) io.Reader { return strings.NewReader(s) },
		"byte a read": func(s string) io.Reader { return iotest.OneByteReader(strings.NewReader(s)) },
	}
	for _, tt := range tests {
		for rname, newReader := range readers {
			t.Run(tt.name+"/"+rname, func(t *testing.T) {
				r := mllp.NewReader(newReader(tt.in), tt.max)
				if diff := cmp.Diff(tt.want, readAll(r)); diff != "" {
					t.Errorf("frames mismatch (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(tt.stats, r.Stats()); diff != "" {
					t.Errorf("stats mismatch (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestWriteFrame(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		want    string
		err     error
	}{
		{"message", "MSH|a\rPID|b\r", "\x0bMSH|a\rPID|b\r\x1c\x0d", nil},
		{"empty", "", "\x0b\x1c\x0d", nil},
		{"end block without CR", "A\x1cB", "\x0bA\x1cB\x1c\x0d", nil},
		{"trailing end block", "A\x1c", "\x0bA\x1c\x1c\x0d", nil},
		{"start block", "A\x0bB", "", mllp.ErrInvalidPayload},
		{"end block and CR", "A\x1c\x0dB", "", mllp.ErrInvalidPayload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := mllp.WriteFrame(&buf, []byte(tt.payload))
			if !errors.Is(err, tt.err) {
				t.Fatalf("WriteFrame error = %v, want %v", err, tt.err)
			}
			if diff := cmp.Diff(tt.want, buf.String()); diff != "" {
				t.Errorf("written mismatch (-want +got):\n%s", diff)
			}
			if err != nil {
				return
			}
			got, err := mllp.NewReader(&buf, 0).ReadFrame()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.payload, string(got)); diff != "" {
				t.Errorf("read back mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
