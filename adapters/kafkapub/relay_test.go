package kafkapub_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/codebridge/codebridge/adapters/kafkapub"
	"github.com/codebridge/codebridge/mapping"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// These run the relay against a fake workitem.Outbox and an embedded
// broker; the same cases on the real PostgreSQL outbox are in
// cmd/codebridge/relay_test.go.

func TestRelayPublishesContractEvents(t *testing.T) {
	e := newEnv(t, kafkapub.EmbeddedOptions{})
	statuses := []string{"ready", "in-progress", "coded"}
	for i, st := range statuses {
		prev := ""
		if i > 0 {
			prev = statuses[i-1]
		}
		m, err := mapping.StatusMessage(topic, mapping.StatusChange{WorkItemID: "wi-1", Encounter: "Encounter/e1",
			Patient: "Patient/p1", Status: st, PreviousStatus: prev, Actor: "alice", At: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		e.store.enqueue(m)
	}
	c := consume(t, e.opts.Brokers)
	e.startRelay(t, kafkapub.RelayOptions{})
	msgs := c.waitDistinct(t, 3, 10*time.Second)
	checkOrder(t, msgs, map[string]int64{"Encounter/e1": 3})
	for i, m := range msgs[:3] {
		var ev map[string]any
		if err := json.Unmarshal(m.Value, &ev); err != nil {
			t.Fatal(err)
		}
		data, _ := ev["data"].(map[string]any)
		if ev["type"] != "codebridge.workitem."+statuses[i] || data["status"] != statuses[i] || ev["subject"] != "wi-1" {
			t.Errorf("event %d = %s", i, m.Value)
		}
	}
	waitPending(t, e.store, 0)
}

// waitPending waits until the outbox has n pending records.
func waitPending(t *testing.T, f *fakeOutbox, n int64) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		st, _ := f.Stats(context.Background())
		if st.Pending == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pending = %d, want %d", st.Pending, n)
		}
	}
}

// TestBrokerOutage stops the broker while changes keep coming: nothing is
// dead-lettered, and a new broker on the same address receives everything
// in per-key order.
func TestBrokerOutage(t *testing.T) {
	e := newEnv(t, kafkapub.EmbeddedOptions{})
	addr := e.broker.Addr()
	e.startRelay(t, kafkapub.RelayOptions{Retry: workitem.RetryPolicy{MaxAttempts: 2, Base: 20 * time.Millisecond, Cap: 200 * time.Millisecond}})
	e.enqueue("Encounter/warmup", 1)
	consume(t, e.opts.Brokers).waitDistinct(t, 1, 10*time.Second)

	e.broker.Close()
	want := map[string]int64{}
	for i := 1; i <= 30; i++ {
		for k := range 5 {
			key := fmt.Sprintf("Encounter/%d", k)
			e.enqueue(key, i)
			want[key] = int64(i)
		}
	}
	time.Sleep(300 * time.Millisecond) // let the relay fail a few rounds
	if st, _ := e.store.Stats(context.Background()); st.Pending != 150 || st.Dead != 0 {
		t.Fatalf("during the outage: %d pending, %d dead; want 150, 0", st.Pending, st.Dead)
	}

	e.startBroker(t, addr, kafkapub.EmbeddedOptions{}) // the same address, empty
	e.ensureTopic(t)
	checkOrder(t, consume(t, e.opts.Brokers).waitDistinct(t, 150, 20*time.Second), want)
}

// TestRecordsClaimedByADeadRelay: a relay claimed a batch and died; another
// was cancelled mid-round. A new relay delivers everything once the lease
// has run out.
func TestRecordsClaimedByADeadRelay(t *testing.T) {
	e := newEnv(t, kafkapub.EmbeddedOptions{})
	for i := 1; i <= 4; i++ {
		e.enqueue("Encounter/a", i)
		e.enqueue("Encounter/b", i)
	}
	if recs, err := e.store.Claim(context.Background(), 10, 300*time.Millisecond); err != nil || len(recs) != 2 {
		t.Fatalf("claim = %d, %v", len(recs), err)
	}
	e.startRelay(t, kafkapub.RelayOptions{})()
	c := consume(t, e.opts.Brokers)
	e.startRelay(t, kafkapub.RelayOptions{})
	checkOrder(t, c.waitDistinct(t, 8, 10*time.Second), map[string]int64{"Encounter/a": 4, "Encounter/b": 4})
}

// TestTwoRelaysKeepPerKeyOrder runs two relays on one outbox while writers
// interleave changes over many keys.
func TestTwoRelaysKeepPerKeyOrder(t *testing.T) {
	e := newEnv(t, kafkapub.EmbeddedOptions{})
	c := consume(t, e.opts.Brokers)
	for range 2 {
		e.startRelay(t, kafkapub.RelayOptions{Batch: 16, Poll: 5 * time.Millisecond})
	}
	const keys, writers, perWriter = 40, 4, 100
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for i := range perWriter {
				e.enqueue(fmt.Sprintf("Encounter/%d", rng.IntN(keys)), w*perWriter+i)
			}
		})
	}
	wg.Wait()
	checkOrder(t, c.waitDistinct(t, writers*perWriter, 20*time.Second), e.store.lastSeqs())
}

// TestDeadLetterTooLarge sends a record over the broker's message.max.bytes:
// it dies after MaxAttempts, later records go on, and a replay once the
// broker accepts it delivers it at the end of its key.
func TestDeadLetterTooLarge(t *testing.T) {
	e := newEnv(t, kafkapub.EmbeddedOptions{MaxMessageBytes: 64 << 10})
	ctx := context.Background()
	e.store.enqueue(workitem.Message{Topic: topic, Key: "Encounter/big", Value: make([]byte, 100<<10)})
	e.enqueue("Encounter/big", 2)
	e.enqueue("Encounter/small", 1)
	c := consume(t, e.opts.Brokers)
	stop := e.startRelay(t, kafkapub.RelayOptions{Retry: workitem.RetryPolicy{MaxAttempts: 3, Base: 10 * time.Millisecond, Cap: 50 * time.Millisecond}})
	msgs := c.waitDistinct(t, 2, 10*time.Second)
	dead, err := e.store.ListDead(ctx, 0, 10)
	if err != nil || len(dead) != 1 || dead[0].Attempts != 3 || dead[0].Seq != 1 {
		t.Fatalf("dead = %+v, %v; want the big record after 3 attempts", dead, err)
	}
	for _, m := range msgs {
		if string(m.Key) == "Encounter/big" && seqOf(t, m) != 2 {
			t.Errorf("big record was delivered")
		}
	}
	stop()

	addr := e.broker.Addr()
	e.broker.Close()
	e.startBroker(t, addr, kafkapub.EmbeddedOptions{})
	e.ensureTopic(t)
	if err := e.store.Replay(ctx, dead[0].ID); err != nil {
		t.Fatal(err)
	}
	c2 := consume(t, e.opts.Brokers)
	e.startRelay(t, kafkapub.RelayOptions{})
	got := c2.waitDistinct(t, 1, 10*time.Second)
	if len(got[0].Value) != 100<<10 || seqOf(t, got[0]) != 3 {
		t.Errorf("replayed record: %d bytes, seq %d; want %d bytes at seq 3", len(got[0].Value), seqOf(t, got[0]), 100<<10)
	}
}

func TestOversizedForWriterDiesAtOnce(t *testing.T) {
	e := newEnv(t, kafkapub.EmbeddedOptions{})
	e.store.enqueue(workitem.Message{Topic: topic, Key: "Encounter/x", Value: make([]byte, 2<<20)})
	e.enqueue("Encounter/x", 2)
	c := consume(t, e.opts.Brokers)
	e.startRelay(t, kafkapub.RelayOptions{})
	c.waitDistinct(t, 1, 10*time.Second)
	dead, err := e.store.ListDead(context.Background(), 0, 10)
	if err != nil || len(dead) != 1 || dead[0].Attempts != 1 || !strings.Contains(dead[0].LastError, "max message bytes") {
		t.Fatalf("dead = %+v, %v", dead, err)
	}
}

func TestPingAndEnsureTopicsIdempotent(t *testing.T) {
	e := newEnv(t, kafkapub.EmbeddedOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := kafkapub.Ping(ctx, e.opts); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	e.ensureTopic(t) // exists already: fine
	e.broker.Close()
	if err := kafkapub.Ping(ctx, e.opts); err == nil {
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
// PublishTimeout is still recorded, on a context of its own.
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
			store.enqueue(workitem.Message{Topic: topic, Key: "Encounter/slow", Value: []byte("v")})
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
