package mllp_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/codebridge/codebridge/adapters/mllp"
)

func TestClient(t *testing.T) {
	h := mllp.HandlerFunc(func(ctx context.Context, p []byte) [][]byte {
		if string(p) == "no answer" {
			return nil
		}
		return echo(ctx, p)
	})
	ts := start(t, &mllp.Server{Handler: h})
	c := dial(t, ts.addr)

	if _, err := c.Send(context.Background(), []byte("bad\x0bpayload")); !errors.Is(err, mllp.ErrInvalidPayload) {
		t.Errorf("Send of an unframable payload: %v, want ErrInvalidPayload", err)
	}
	if got := send(t, c, "still usable"); got != "ACK:still usable" {
		t.Errorf("got %q, want ACK:still usable", got)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := c.Send(ctx, []byte("no answer")); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Send without an answer: %v, want context.DeadlineExceeded", err)
	}
	if _, err := c.Send(context.Background(), []byte("after")); !errors.Is(err, mllp.ErrClientBroken) {
		t.Errorf("Send after a failed exchange: %v, want ErrClientBroken", err)
	}
}

func TestClientCancel(t *testing.T) {
	entered := make(chan struct{})
	h := mllp.HandlerFunc(func(ctx context.Context, p []byte) [][]byte {
		close(entered)
		<-ctx.Done()
		return nil
	})
	ts := start(t, &mllp.Server{Handler: h})
	c := dial(t, ts.addr)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-entered
		cancel()
	}()
	if _, err := c.Send(ctx, []byte("MSH|wait")); !errors.Is(err, context.Canceled) {
		t.Errorf("Send cancelled: %v, want context.Canceled", err)
	}
}
