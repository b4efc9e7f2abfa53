package mllp_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/codebridge/codebridge/adapters/mllp"
)

// guard bounds every blocking step of a test, so that a bug fails the test
// instead of hanging it. It is never what a test asserts.
const guard = 20 * time.Second

// echo answers each frame with "ACK:" + its payload, so every response
// names its request.
var echo = mllp.HandlerFunc(func(_ context.Context, payload []byte) [][]byte {
	return [][]byte{append([]byte("ACK:"), payload...)}
})

// testServer is a running Server and its metrics registry.
type testServer struct {
	*mllp.Server
	addr  string
	reg   *prometheus.Registry
	serve chan error // Serve's result
	once  sync.Once
	err   error
}

// served waits for Serve to return and returns its error.
func (ts *testServer) served() error {
	ts.once.Do(func() { ts.err = <-ts.serve })
	return ts.err
}

// start serves s on 127.0.0.1:0 with fresh metrics (and echo when s has no
// Handler) until the test ends.
func start(t testing.TB, s *mllp.Server) *testServer {
	t.Helper()
	if s.Handler == nil {
		s.Handler = echo
	}
	ts := &testServer{Server: s, reg: prometheus.NewRegistry(), serve: make(chan error, 1)}
	s.Metrics = mllp.NewMetrics(ts.reg)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.addr = l.Addr().String()
	go func() { ts.serve <- s.Serve(l) }()
	t.Cleanup(func() {
		s.Close()
		if err := ts.served(); !errors.Is(err, mllp.ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	return ts
}

// counter reads a counter or gauge, with its label values if any.
func (ts *testServer) counter(t testing.TB, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := ts.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if labelsMatch(m.GetLabel(), labels) {
				if m.GetGauge() != nil {
					return m.GetGauge().GetValue()
				}
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("metric %s%v not found", name, labels)
	return 0
}

func labelsMatch[L interface{ GetValue() string }](got []L, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i].GetValue() != want[i] {
			return false
		}
	}
	return true
}

// dialRaw opens a plain TCP connection, closed when the test ends.
func dialRaw(t testing.TB, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, guard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// dial opens a Client, closed when the test ends.
func dial(t testing.TB, addr string) *mllp.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	c, err := mllp.Dial(ctx, addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// send exchanges one frame through c and returns the response.
func send(t testing.TB, c *mllp.Client, payload string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	resp, err := c.Send(ctx, []byte(payload))
	if err != nil {
		t.Fatalf("Send(%q): %v", payload, err)
	}
	return string(resp)
}

// writeAll writes each chunk with its own Write call.
func writeAll(t testing.TB, c net.Conn, chunks ...[]byte) {
	t.Helper()
	for _, p := range chunks {
		if _, err := c.Write(p); err != nil {
			t.Fatalf("write: %v", err)
		}
	}
}

// readFrames reads n frames from c.
func readFrames(t testing.TB, r *mllp.Reader, c net.Conn, n int) []string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(guard))
	var got []string
	for range n {
		p, err := r.ReadFrame()
		if err != nil {
			t.Fatalf("after %d frames %q: ReadFrame: %v", len(got), got, err)
		}
		got = append(got, string(p))
	}
	return got
}

// readUntilClosed reads c until the server closes it and returns the
// frames that came before, if any. It may run outside the test goroutine.
func readUntilClosed(t testing.TB, c net.Conn) []string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(guard))
	r := mllp.NewReader(c, 0)
	var got []string
	for {
		p, err := r.ReadFrame()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Errorf("connection still open after %v", guard)
			}
			return got
		}
		got = append(got, string(p))
	}
}

// frame returns payload framed.
func frame(payload string) []byte {
	return []byte("\x0b" + payload + "\x1c\x0d")
}
