package mllp_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/codebridge/codebridge/adapters/mllp"
)

// TestFramingOverTCP sends byte streams over a real connection and checks
// the frames the handler saw, through its echoed responses, and what the
// server counted. Stray bytes always precede a frame, so they have been
// read (and counted) by the time that frame's response arrives.
func TestFramingOverTCP(t *testing.T) {
	msg := "MSH|^~\\&|LAB|FAC|CB|CB|20240101||ADT^A01|MSG1|P|2.5\rPID|1||123\r"
	tests := []struct {
		name      string
		chunks    [][]byte
		want      []string
		skipped   float64
		abandoned float64
	}{
		{"one frame", [][]byte{frame(msg)}, []string{"ACK:" + msg}, 0, 0},
		{"split byte by byte", split(frame(msg), 1), []string{"ACK:" + msg}, 0, 0},
		{"split across the end block", [][]byte{[]byte("\x0babc\x1c"), []byte("\x0d")}, []string{"ACK:abc"}, 0, 0},
		{"several frames in one write", [][]byte{bytes.Join([][]byte{frame("a"), frame("b"), frame("c")}, nil)},
			[]string{"ACK:a", "ACK:b", "ACK:c"}, 0, 0},
		{"stray LF after the end", [][]byte{frame("a"), []byte("\n"), frame("b")}, []string{"ACK:a", "ACK:b"}, 1, 0},
		{"stray CR LF after the end, same write", [][]byte{[]byte("\x0ba\x1c\x0d\r\n\x0bb\x1c\x0d")}, []string{"ACK:a", "ACK:b"}, 2, 0},
		{"garbage before the start", [][]byte{[]byte("garbage!"), frame("a")}, []string{"ACK:a"}, 8, 0},
		{"end block without CR is data", [][]byte{[]byte("\x0bA\x1cB\x1c\x0d")}, []string{"ACK:A\x1cB"}, 0, 0},
		{"start block inside a frame restarts it", [][]byte{[]byte("\x0bhalf a mess"), frame("b")}, []string{"ACK:b"}, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := start(t, &mllp.Server{})
			c := dialRaw(t, ts.addr)
			writeAll(t, c, tt.chunks...)
			got := readFrames(t, mllp.NewReader(c, 0), c, len(tt.want))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("responses mismatch (-want +got):\n%s", diff)
			}
			counts := map[string]float64{
				"skipped":   ts.counter(t, "codebridge_mllp_skipped_bytes_total"),
				"abandoned": ts.counter(t, "codebridge_mllp_framing_errors_total", "start_in_frame"),
				"received":  ts.counter(t, "codebridge_mllp_frames_received_total"),
			}
			want := map[string]float64{"skipped": tt.skipped, "abandoned": tt.abandoned, "received": float64(len(tt.want))}
			if diff := cmp.Diff(want, counts); diff != "" {
				t.Errorf("metrics mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// split cuts p into chunks of n bytes.
func split(p []byte, n int) [][]byte {
	var out [][]byte
	for len(p) > n {
		out = append(out, p[:n])
		p = p[n:]
	}
	return append(out, p)
}

func TestOversizedFrame(t *testing.T) {
	refuse := func(head []byte) []byte { return append([]byte("AR:"), head...) }
	big := "MSH|^~\\&|" + strings.Repeat("z", 500)
	tests := []struct {
		name      string
		oversized func([]byte) []byte
		payloads  []string
		want      []string
	}{
		{"at the limit", refuse, []string{big[:64]}, []string{"ACK:" + big[:64]}},
		{"refused, connection kept", refuse, []string{big[:65], big, "next"},
			[]string{"AR:" + big[:64], "AR:" + big[:64], "ACK:next"}},
		{"no Oversized closes the connection", nil, []string{big, "next"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := start(t, &mllp.Server{MaxFrame: 64, Oversized: tt.oversized})
			c := dialRaw(t, ts.addr)
			for _, p := range tt.payloads {
				writeAll(t, c, split(frame(p), 100)...)
			}
			got := readUntilClosedAfter(t, c, len(tt.want))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("responses mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// readUntilClosedAfter reads n frames, or until the server closes c when n
// is 0.
func readUntilClosedAfter(t testing.TB, c net.Conn, n int) []string {
	t.Helper()
	if n == 0 {
		return readUntilClosed(t, c)
	}
	return readFrames(t, mllp.NewReader(c, 0), c, n)
}

func TestConnectionClosedMidFrame(t *testing.T) {
	ts := start(t, &mllp.Server{})
	c := dialRaw(t, ts.addr)
	writeAll(t, c, frame("first"), []byte("\x0bMSH|^~\\&|cut short"))
	c.(*net.TCPConn).CloseWrite()
	if diff := cmp.Diff([]string{"ACK:first"}, readUntilClosed(t, c)); diff != "" {
		t.Errorf("responses mismatch (-want +got):\n%s", diff)
	}
	if got := ts.counter(t, "codebridge_mllp_framing_errors_total", "closed_mid_frame"); got != 1 {
		t.Errorf("closed_mid_frame framing errors = %v, want 1", got)
	}
	// The server goes on serving others.
	if got := send(t, dial(t, ts.addr), "after"); got != "ACK:after" {
		t.Errorf("next connection got %q, want ACK:after", got)
	}
}

// TestReadTimeout is a slowloris: a frame trickling in a byte at a time
// never completes; its connection is closed after ReadTimeout, while a
// connection opened before it keeps working.
func TestReadTimeout(t *testing.T) {
	ts := start(t, &mllp.Server{ReadTimeout: 300 * time.Millisecond})
	good := dial(t, ts.addr)
	if got := send(t, good, "before"); got != "ACK:before" {
		t.Fatalf("got %q, want ACK:before", got)
	}
	slow := dialRaw(t, ts.addr)
	writeAll(t, slow, []byte("\x0bMSH|"))
	go trickle(slow, 'x')
	if got := readUntilClosed(t, slow); len(got) != 0 {
		t.Errorf("slow connection got responses %q, want none", got)
	}
	if got := ts.counter(t, "codebridge_mllp_framing_errors_total", "read_timeout"); got != 1 {
		t.Errorf("read_timeout framing errors = %v, want 1", got)
	}
	if got := send(t, good, "after"); got != "ACK:after" {
		t.Errorf("got %q, want ACK:after", got)
	}
}

// trickle writes b every 20ms until the connection fails.
func trickle(c net.Conn, b byte) {
	for {
		if _, err := c.Write([]byte{b}); err != nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestIdleTimeout: a connection on which no frame starts is closed, even if
// it sends bytes that are not a start block, and so is one that goes quiet
// after a frame; one that keeps exchanging frames (every 100ms, against a
// 1s timeout) is not.
func TestIdleTimeout(t *testing.T) {
	ts := start(t, &mllp.Server{IdleTimeout: time.Second})
	busy := dial(t, ts.addr)
	silent := dialRaw(t, ts.addr)
	chatty := dialRaw(t, ts.addr)
	go trickle(chatty, '\n')
	quiet := dialRaw(t, ts.addr)
	writeAll(t, quiet, frame("one"))
	done := make(chan []string)
	go func() {
		var got []string
		for _, c := range []net.Conn{silent, chatty, quiet} {
			got = append(got, readUntilClosed(t, c)...)
		}
		done <- got
	}()
	for i := 0; ; i++ {
		select {
		case got := <-done:
			if diff := cmp.Diff([]string{"ACK:one"}, got); diff != "" {
				t.Errorf("responses on idle connections mismatch (-want +got):\n%s", diff)
			}
			if got := ts.counter(t, "codebridge_mllp_idle_timeouts_total"); got != 3 {
				t.Errorf("idle timeouts = %v, want 3", got)
			}
			if got := send(t, busy, "still here"); got != "ACK:still here" {
				t.Errorf("busy connection got %q", got)
			}
			return
		case <-time.After(100 * time.Millisecond):
			send(t, busy, fmt.Sprint(i))
		}
	}
}

func TestHandlerResponses(t *testing.T) {
	h := mllp.HandlerFunc(func(_ context.Context, p []byte) [][]byte {
		switch string(p) {
		case "none":
			return nil
		case "two":
			return [][]byte{[]byte("first"), []byte("second")}
		case "panic":
			panic("handler bug")
		case "unframable":
			return [][]byte{[]byte("a\x0bb")}
		}
		return [][]byte{p}
	})
	tests := []struct {
		name     string
		payloads []string
		want     []string
		closed   bool
	}{
		{"zero responses", []string{"none", "x"}, []string{"x"}, false},
		{"two responses in order", []string{"two", "x"}, []string{"first", "second", "x"}, false},
		{"panic closes the connection", []string{"x", "panic", "y"}, []string{"x"}, true},
		{"unframable response closes the connection", []string{"x", "unframable", "y"}, []string{"x"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := start(t, &mllp.Server{Handler: h})
			c := dialRaw(t, ts.addr)
			for _, p := range tt.payloads {
				writeAll(t, c, frame(p))
			}
			var got []string
			if tt.closed {
				got = readUntilClosed(t, c)
			} else {
				got = readFrames(t, mllp.NewReader(c, 0), c, len(tt.want))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("responses mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMaxConns(t *testing.T) {
	ts := start(t, &mllp.Server{MaxConns: 2})
	a, b := dial(t, ts.addr), dial(t, ts.addr)
	send(t, a, "a") // both are being served once they have answered
	send(t, b, "b")
	over := dialRaw(t, ts.addr)
	writeAll(t, over, frame("c"))
	if got := readUntilClosed(t, over); len(got) != 0 {
		t.Errorf("connection over MaxConns got %q, want none", got)
	}
	if got := ts.counter(t, "codebridge_mllp_connections_rejected_total", "max_conns"); got != 1 {
		t.Errorf("rejected connections = %v, want 1", got)
	}
	if got := ts.counter(t, "codebridge_mllp_connections_open"); got != 2 {
		t.Errorf("open connections = %v, want 2", got)
	}
	if got := send(t, a, "a2"); got != "ACK:a2" {
		t.Errorf("got %q, want ACK:a2", got)
	}
}

// TestLogsCarryNoPayload runs the paths that log (connection open and
// close, oversized, panic, mid-frame close, unframable response) with
// payloads carrying a marker, and checks the marker never reaches the log.
func TestLogsCarryNoPayload(t *testing.T) {
	const phi = "DOE^JANE^19700101"
	var logs bytes.Buffer
	h := mllp.HandlerFunc(func(ctx context.Context, p []byte) [][]byte {
		switch {
		case bytes.Contains(p, []byte("panic")):
			panic("cannot map " + string(p))
		case bytes.Contains(p, []byte("unframable")):
			return [][]byte{append([]byte("\x0b"), p...)}
		}
		return echo(ctx, p)
	})
	ts := start(t, &mllp.Server{Handler: h, MaxFrame: 64,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	for _, stream := range []string{
		"\x0bPID|" + phi + "\x1c\x0d",
		"\x0bPID|" + phi + strings.Repeat("z", 100) + "\x1c\x0d",
		"\x0bpanic PID|" + phi + "\x1c\x0d",
		"\x0bunframable PID|" + phi + "\x1c\x0d",
		"\x0bPID|" + phi,
	} {
		c := dialRaw(t, ts.addr)
		writeAll(t, c, []byte(stream))
		c.(*net.TCPConn).CloseWrite()
		readUntilClosed(t, c)
	}
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	if err := ts.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if logs.Len() == 0 {
		t.Fatal("nothing was logged")
	}
	if strings.Contains(logs.String(), phi) {
		t.Errorf("payload content in the logs:\n%s", logs.String())
	}
}
