package main

// The outbox relay on the real PostgreSQL outbox store and an embedded
// Kafka-protocol broker. These cases were kafkapub's own tests; they live
// here, the one place that wires one adapter to another, and kafkapub runs
// the same cases (relaytest) against an in-memory outbox.

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/codebridge/codebridge/adapters/kafkapub"
	"github.com/codebridge/codebridge/adapters/kafkapub/relaytest"
	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// relayEnv is a relaytest.Env over a fresh PostgreSQL outbox, with its
// database.
type relayEnv struct {
	*relaytest.Env
	db    *postgres.DB
	store *postgres.OutboxStore
}

func newRelayEnv(t testing.TB, bo kafkapub.EmbeddedOptions) *relayEnv {
	t.Helper()
	db := pgtest.New(t)
	store := postgres.NewOutboxStore(db)
	enqueue := func(ctx context.Context, m workitem.Message) error { return store.Enqueue(ctx, m) }
	return &relayEnv{Env: relaytest.NewEnv(t, store, enqueue, bo), db: db, store: store}
}

// TestRelayOnPostgres runs the relay cases on the PostgreSQL outbox.
func TestRelayOnPostgres(t *testing.T) {
	relaytest.Run(t, func(t testing.TB, bo kafkapub.EmbeddedOptions) *relaytest.Env { return newRelayEnv(t, bo).Env })
}

// slowPublisher uses up the publish context, then reports err: a publish
// that finished (or failed) just as PublishTimeout ran out.
type slowPublisher struct{ err error }

func (p slowPublisher) WriteMessages(ctx context.Context, _ ...kafka.Message) error {
	<-ctx.Done()
	return p.err
}

// TestSettleAfterPublishTimeout: the outcome of a publish that used up
// PublishTimeout is still recorded, on a context of its own. A delivered
// batch is marked sent (not re-published once its lease runs out) and a
// failed one gets its reason and backoff.
func TestSettleAfterPublishTimeout(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		err       error
		wantState string
	}{
		{"delivered", nil, "sent"},
		{"failed", errors.New("broker went away"), "pending"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := pgtest.New(t)
			store := postgres.NewOutboxStore(db)
			if err := store.Enqueue(ctx, workitem.Message{Topic: relaytest.Topic, Key: "Encounter/slow", Value: []byte("v")}); err != nil {
				t.Fatal(err)
			}
			r := kafkapub.NewRelay(store, slowPublisher{tc.err}, kafkapub.RelayOptions{PublishTimeout: 50 * time.Millisecond,
				Retry: workitem.RetryPolicy{MaxAttempts: 5, Base: time.Minute, Cap: time.Minute}})
			// The caller's context, too, is gone by the time the publish ends.
			rctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
			defer cancel()
			n, err := r.RunOnce(rctx)
			if n != 1 || err != nil {
				t.Fatalf("RunOnce = %d, %v", n, err)
			}
			var state, lastErr string
			var attempts int
			var wait time.Duration
			var waitSecs float64
			if err := db.QueryRow(`SELECT state, attempts, last_error, EXTRACT(EPOCH FROM next_attempt_at - now())::float8 FROM outbox`).
				Scan(&state, &attempts, &lastErr, &waitSecs); err != nil {
				t.Fatal(err)
			}
			wait = time.Duration(waitSecs * float64(time.Second))
			if state != tc.wantState {
				t.Fatalf("state = %q, want %q", state, tc.wantState)
			}
			if tc.err != nil && (attempts != 1 || !strings.Contains(lastErr, "broker went away") || wait < 30*time.Second) {
				t.Errorf("failure recorded as attempts %d, last_error %q, next attempt in %v; want 1, the reason, the 1m backoff",
					attempts, lastErr, wait)
			}
		})
	}
}
