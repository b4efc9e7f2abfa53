package kafkapub_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/codebridge/codebridge/adapters/kafkapub"
	"github.com/codebridge/codebridge/adapters/kafkapub/relaytest"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// fakeEnv is a relaytest.Env over an in-memory outbox.
func fakeEnv(t testing.TB, bo kafkapub.EmbeddedOptions) *relaytest.Env {
	f := newFakeOutbox()
	return relaytest.NewEnv(t, f, func(_ context.Context, m workitem.Message) error { f.enqueue(m); return nil }, bo)
}

// TestRelay runs the relay cases against the fake outbox and an embedded
// broker; cmd/codebridge runs the same cases on the real PostgreSQL outbox.
func TestRelay(t *testing.T) { relaytest.Run(t, fakeEnv) }

func TestPingAndEnsureTopicsIdempotent(t *testing.T) {
	e := fakeEnv(t, kafkapub.EmbeddedOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := kafkapub.Ping(ctx, e.Opts); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	e.EnsureTopic(t) // exists already: fine
	e.Broker.Close()
	if err := kafkapub.Ping(ctx, e.Opts); err == nil {
		t.Fatal("Ping succeeded with the broker down")
	}
}

// slowPublisher uses up the publish context, then reports err: a publish
// that finished (or failed) just as PublishTimeout ran out.
type slowPublisher struct{ err error }

func (p slowPublisher) WriteMessages(ctx context.Context, _ ...kafka.Message) error {
	<-ctx.Done()
	return p.err
}

// TestSettleAfterPublishTimeout: the outcome of a publish that used up
// PublishTimeout is still recorded, on a context of its own. (The same case
// on the PostgreSQL outbox is in cmd/codebridge/relay_test.go.)
func TestSettleAfterPublishTimeout(t *testing.T) {
	for _, tc := range []struct {
		name      string
		err       error
		wantState workitem.OutboxState
	}{
		{"delivered", nil, workitem.OutboxSent},
		{"failed", errors.New("broker went away"), workitem.OutboxPending},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := newFakeOutbox()
			store.enqueue(workitem.Message{Topic: relaytest.Topic, Key: "Encounter/slow", Value: []byte("v")})
			r := kafkapub.NewRelay(store, slowPublisher{tc.err}, kafkapub.RelayOptions{PublishTimeout: 50 * time.Millisecond,
				Retry: workitem.RetryPolicy{MaxAttempts: 5, Base: time.Minute, Cap: time.Minute}})
			// The caller's context, too, is gone by the time the publish ends.
			rctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			defer cancel()
			if n, err := r.RunOnce(rctx); n != 1 || err != nil {
				t.Fatalf("RunOnce = %d, %v", n, err)
			}
			got := store.record(1)
			if got.State != tc.wantState {
				t.Fatalf("state = %q, want %q", got.State, tc.wantState)
			}
			if wait := time.Until(got.next); tc.err != nil && (got.Attempts != 1 || !strings.Contains(got.LastError, "broker went away") || wait < 30*time.Second) {
				t.Errorf("failure recorded as attempts %d, last_error %q, next attempt in %v; want 1, the reason, the 1m backoff",
					got.Attempts, got.LastError, wait)
			}
		})
	}
}
