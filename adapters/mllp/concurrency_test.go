package mllp_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/codebridge/codebridge/adapters/mllp"
)

// sequential wraps echo, counting calls that overlap another call for the
// same connection (there must be none).
type sequential struct {
	inFlight sync.Map // remote address -> struct{}
	overlaps atomic.Int64
}

func (s *sequential) ServeMLLP(ctx context.Context, p []byte) [][]byte {
	peer, ok := mllp.PeerFromContext(ctx)
	if !ok {
		panic("no Peer in the handler's context")
	}
	key := peer.Addr.String()
	if _, busy := s.inFlight.LoadOrStore(key, struct{}{}); busy {
		s.overlaps.Add(1)
		return echo(ctx, p)
	}
	runtime.Gosched() // give an overlapping call a chance to show
	defer s.inFlight.Delete(key)
	return echo(ctx, p)
}

func TestConcurrentConnections(t *testing.T) {
	const conns, frames = 200, 20
	h := &sequential{}
	ts := start(t, &mllp.Server{Handler: h})
	var wg sync.WaitGroup
	mismatches := make(chan string, conns*frames)
	for i := range conns {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), guard)
			defer cancel()
			c, err := mllp.Dial(ctx, ts.addr, nil)
			if err != nil {
				t.Errorf("conn %d: %v", i, err)
				return
			}
			defer c.Close()
			for j := range frames {
				marker := fmt.Sprintf("MSH|^~\\&|conn-%d|frame-%d", i, j)
				got, err := c.Send(ctx, []byte(marker))
				if err != nil {
					t.Errorf("conn %d frame %d: %v", i, j, err)
					return
				}
				if string(got) != "ACK:"+marker {
					mismatches <- fmt.Sprintf("sent %q, got %q", marker, got)
				}
			}
		})
	}
	wg.Wait()
	close(mismatches)
	for m := range mismatches {
		t.Error(m)
	}
	if got := ts.counter(t, "codebridge_mllp_frames_received_total"); got != conns*frames {
		t.Errorf("frames received = %v, want %d", got, conns*frames)
	}
	if n := h.overlaps.Load(); n != 0 {
		t.Errorf("%d handler calls overlapped another of the same connection", n)
	}
}

// TestPipelinedFramesInOrder: a sender that does not wait for ACKs still
// gets one response per frame, in its order, from sequential handling.
func TestPipelinedFramesInOrder(t *testing.T) {
	h := &sequential{}
	ts := start(t, &mllp.Server{Handler: h})
	c := dialRaw(t, ts.addr)
	var out []byte
	var want []string
	for i := range 100 {
		p := fmt.Sprintf("frame-%03d", i)
		out = append(out, frame(p)...)
		want = append(want, "ACK:"+p)
	}
	writeAll(t, c, out)
	got := readFrames(t, mllp.NewReader(c, 0), c, len(want))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("responses mismatch (-want +got):\n%s", diff)
	}
	if n := h.overlaps.Load(); n != 0 {
		t.Errorf("%d handler calls overlapped another of the same connection", n)
	}
}

// TestShutdownWaitsForInFlight: Shutdown closes idle connections and the
// listener at once, waits for the frame being handled, writes its
// response, leaves the frame queued behind it unhandled, then returns.
func TestShutdownWaitsForInFlight(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	var calls sync.Map
	h := mllp.HandlerFunc(func(ctx context.Context, p []byte) [][]byte {
		calls.Store(string(p), true)
		if string(p) == "slow" {
			close(entered)
			<-release
		}
		return echo(ctx, p)
	})
	ts := start(t, &mllp.Server{Handler: h})
	idle := dialRaw(t, ts.addr)
	writeAll(t, idle, frame("hello"))
	readFrames(t, mllp.NewReader(idle, 0), idle, 1)
	busy := dialRaw(t, ts.addr)
	writeAll(t, busy, frame("slow"), frame("queued"))
	<-entered

	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), guard)
		defer cancel()
		shut <- ts.Shutdown(ctx)
	}()
	if got := readUntilClosed(t, idle); len(got) != 0 {
		t.Errorf("idle connection got %q, want nothing", got)
	}
	if err := ts.served(); !errors.Is(err, mllp.ErrServerClosed) {
		t.Errorf("Serve returned %v, want ErrServerClosed", err)
	}
	if c, err := net.Dial("tcp", ts.addr); err == nil {
		c.Close()
		t.Error("a new connection was accepted during Shutdown")
	}
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v while a handler was running", err)
	default:
	}
	close(release)
	if diff := cmp.Diff([]string{"ACK:slow"}, readUntilClosed(t, busy)); diff != "" {
		t.Errorf("in-flight responses mismatch (-want +got):\n%s", diff)
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if _, ok := calls.Load("queued"); ok {
		t.Error("the frame queued behind the in-flight one was handled during Shutdown")
	}
}

// TestShutdownDeadline: when Shutdown's context ends first, it closes
// everything and cancels the handlers' context.
func TestShutdownDeadline(t *testing.T) {
	entered, cancelled := make(chan struct{}), make(chan struct{})
	h := mllp.HandlerFunc(func(ctx context.Context, p []byte) [][]byte {
		close(entered)
		<-ctx.Done()
		close(cancelled)
		return echo(ctx, p)
	})
	ts := start(t, &mllp.Server{Handler: h})
	c := dialRaw(t, ts.addr)
	writeAll(t, c, frame("stuck"))
	<-entered
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := ts.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown returned %v, want context.DeadlineExceeded", err)
	}
	<-cancelled
	if got := readUntilClosed(t, c); len(got) != 0 {
		t.Errorf("got %q after a forced shutdown, want nothing", got)
	}
}
