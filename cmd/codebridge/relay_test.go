package main

// The outbox relay against the real PostgreSQL outbox store and an embedded
// Kafka-protocol broker: moved here from adapters/kafkapub (the only place
// that wires one adapter to another). kafkapub keeps the relay's tests that
// run against a fake workitem.Outbox.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/codebridge/codebridge/adapters/kafkapub"
	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
	"github.com/codebridge/codebridge/mapping"
	"github.com/codebridge/codebridge/mapping/workitem"
)

const (
	relayTopic      = "test.status"
	relayPartitions = 3
)

// relayEnv is one test's database, broker and writer.
type relayEnv struct {
	db     *postgres.DB
	store  *postgres.OutboxStore
	broker *kafkapub.Embedded
	opts   kafkapub.Options
	w      *kafka.Writer
}

func newRelayEnv(t testing.TB, bo kafkapub.EmbeddedOptions) *relayEnv {
	t.Helper()
	db := pgtest.New(t)
	e := &relayEnv{db: db, store: postgres.NewOutboxStore(db)}
	e.startBroker(t, "127.0.0.1:0", bo)
	e.opts = kafkapub.Options{Brokers: []string{e.broker.Addr()}, WriteTimeout: 2 * time.Second}
	e.ensureTopic(t)
	w, err := kafkapub.NewWriter(e.opts)
	if err != nil {
		t.Fatal(err)
	}
	e.w = w
	t.Cleanup(func() { w.Close() })
	return e
}

func (e *relayEnv) startBroker(t testing.TB, addr string, bo kafkapub.EmbeddedOptions) {
	t.Helper()
	b, err := kafkapub.StartEmbedded(addr, bo)
	if err != nil {
		t.Fatal(err)
	}
	e.broker = b
	t.Cleanup(b.Close)
}

func (e *relayEnv) ensureTopic(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := kafkapub.EnsureTopics(ctx, e.opts, relayPartitions, 1, relayTopic); err != nil {
		t.Fatal(err)
	}
}

// startRelay runs a relay until the test ends (or cancel is called).
func (e *relayEnv) startRelay(t testing.TB, o kafkapub.RelayOptions) (cancel func()) {
	t.Helper()
	if o.Retry.MaxAttempts == 0 {
		o.Retry = workitem.RetryPolicy{MaxAttempts: 5, Base: 20 * time.Millisecond, Cap: 200 * time.Millisecond}
	}
	if o.Poll == 0 {
		o.Poll = 10 * time.Millisecond
	}
	o.Logger = slog.New(slog.DiscardHandler)
	r := kafkapub.NewRelay(e.store, e.w, o)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	var once sync.Once
	cancel = func() { once.Do(func() { stop(); <-done }) }
	t.Cleanup(cancel)
	return cancel
}

// enqueue commits one message per key, value "key#i", in its own
// transaction.
func (e *relayEnv) enqueue(t testing.TB, key string, i int) {
	t.Helper()
	m := workitem.Message{Topic: relayTopic, Key: key, Value: fmt.Appendf(nil, "%s#%d", key, i)}
	if err := e.store.Enqueue(context.Background(), m); err != nil {
		t.Fatalf("enqueue: %v", err)
	}
}

// relayConsumer reads every partition of relayTopic from the start with plain
// kafka-go readers (no group), as an outside client would.
type relayConsumer struct {
	mu   sync.Mutex
	msgs []kafka.Message
}

func consumeRelayTopic(t testing.TB, brokers []string) *relayConsumer {
	t.Helper()
	c := &relayConsumer{}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for p := range relayPartitions {
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: relayTopic, Partition: p,
			MinBytes: 1, MaxBytes: 10 << 20, MaxWait: 20 * time.Millisecond, StartOffset: kafka.FirstOffset})
		wg.Go(func() {
			defer r.Close()
			for {
				m, err := r.ReadMessage(ctx)
				if err != nil {
					return
				}
				m.Time = time.Now() // when we received it (benchmarks measure latency with it)
				c.mu.Lock()
				c.msgs = append(c.msgs, m)
				c.mu.Unlock()
			}
		})
	}
	t.Cleanup(func() { cancel(); wg.Wait() })
	return c
}

func (c *relayConsumer) snapshot() []kafka.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]kafka.Message(nil), c.msgs...)
}

// waitDistinct waits until n distinct (key, seq) pairs arrived.
func (c *relayConsumer) waitDistinct(t testing.TB, n int, timeout time.Duration) []kafka.Message {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		msgs := c.snapshot()
		if got := len(relayFirstSeqs(t, msgs)); got >= n {
			return msgs
		} else if time.Now().After(deadline) {
			t.Fatalf("got %d distinct events, want %d", got, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type relayKeySeq struct {
	key string
	seq int64
}

// relayFirstSeqs returns the set of distinct (key, seq) consumed.
func relayFirstSeqs(t testing.TB, msgs []kafka.Message) map[relayKeySeq]bool {
	seen := map[relayKeySeq]bool{}
	for _, m := range msgs {
		seen[relayKeySeq{string(m.Key), relaySeqOf(t, m)}] = true
	}
	return seen
}

func relaySeqOf(t testing.TB, m kafka.Message) int64 {
	for _, h := range m.Headers {
		if h.Key == kafkapub.SeqHeader {
			n, err := strconv.ParseInt(string(h.Value), 10, 64)
			if err != nil {
				t.Fatalf("bad seq header %q", h.Value)
			}
			return n
		}
	}
	t.Fatalf("message without %s header", kafkapub.SeqHeader)
	return 0
}

// checkRelayOrder verifies, per key, that first occurrences of seqs arrive as
// 1, 2, 3, ... without gaps, up to want[key]; it returns the duplicates.
func checkRelayOrder(t testing.TB, msgs []kafka.Message, want map[string]int64) (dups int) {
	t.Helper()
	next := map[string]int64{}
	for _, m := range msgs { // per partition, msgs keep broker order; one key has one partition
		k, s := string(m.Key), relaySeqOf(t, m)
		switch {
		case s <= next[k]:
			dups++
		case s == next[k]+1:
			next[k] = s
		default:
			t.Errorf("key %s: seq %d arrived after %d (gap or reorder)", k, s, next[k])
			next[k] = s
		}
	}
	for k, n := range want {
		if next[k] != n {
			t.Errorf("key %s: delivered up to seq %d, want %d", k, next[k], n)
		}
	}
	return dups
}

func TestRelayPublishesContractEvents(t *testing.T) {
	e := newRelayEnv(t, kafkapub.EmbeddedOptions{})
	ctx := context.Background()
	statuses := []string{"ready", "in-progress", "coded"}
	for i, st := range statuses {
		prev := ""
		if i > 0 {
			prev = statuses[i-1]
		}
		m, err := mapping.StatusMessage(relayTopic, mapping.StatusChange{WorkItemID: "wi-1", Encounter: "Encounter/e1",
			Patient: "Patient/p1", Status: st, PreviousStatus: prev, Actor: "alice", At: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.db.Transact(ctx, nil, func(tx *sql.Tx) error { return postgres.EnqueueTx(ctx, tx, m) }); err != nil {
			t.Fatal(err)
		}
	}
	c := consumeRelayTopic(t, e.opts.Brokers)
	e.startRelay(t, kafkapub.RelayOptions{})
	msgs := c.waitDistinct(t, 3, 10*time.Second)
	checkRelayOrder(t, msgs, map[string]int64{"Encounter/e1": 3})
	for i, m := range msgs[:3] {
		var ev map[string]any
		if err := json.Unmarshal(m.Value, &ev); err != nil {
			t.Fatal(err)
		}
		data, _ := ev["data"].(map[string]any)
		if ev["specversion"] != "1.0" || ev["source"] != "codebridge" || ev["subject"] != "wi-1" ||
			ev["type"] != "codebridge.workitem."+statuses[i] || ev["datacontenttype"] != "application/json" ||
			data["encounter"] != "Encounter/e1" || data["patient"] != "Patient/p1" || data["status"] != statuses[i] {
			t.Errorf("event %d = %s", i, m.Value)
		}
		if _, ok := data["claim"]; ok {
			t.Errorf("event %d has a claim before one was issued", i)
		}
	}
	st, _ := e.store.Stats(ctx)
	if st.Pending != 0 {
		t.Errorf("pending after delivery = %d", st.Pending)
	}
}

// TestBrokerOutage stops the broker while changes keep coming: writers see
// no error, the outbox grows, and a new broker on the same address receives
// everything in per-key order.
func TestBrokerOutage(t *testing.T) {
	e := newRelayEnv(t, kafkapub.EmbeddedOptions{})
	addr := e.broker.Addr()
	e.startRelay(t, kafkapub.RelayOptions{Retry: workitem.RetryPolicy{MaxAttempts: 2, Base: 20 * time.Millisecond, Cap: 200 * time.Millisecond}})
	e.enqueue(t, "Encounter/warmup", 1)
	consumeRelayTopic(t, e.opts.Brokers).waitDistinct(t, 1, 10*time.Second)

	e.broker.Close()
	want := map[string]int64{}
	for i := 1; i <= 30; i++ {
		for k := range 5 {
			key := fmt.Sprintf("Encounter/%d", k)
			e.enqueue(t, key, i) // never fails: enqueueing does not touch Kafka
			want[key] = int64(i)
		}
	}
	time.Sleep(300 * time.Millisecond) // let the relay fail a few rounds
	st, err := e.store.Stats(context.Background())
	if err != nil || st.Pending != 150 {
		t.Fatalf("pending during outage = %d, %v; want 150", st.Pending, err)
	}
	if st.Dead != 0 {
		t.Fatalf("an outage dead-lettered %d records", st.Dead)
	}

	e.startBroker(t, addr, kafkapub.EmbeddedOptions{}) // the same address, empty
	e.ensureTopic(t)
	msgs := consumeRelayTopic(t, e.opts.Brokers).waitDistinct(t, 150, 20*time.Second)
	checkRelayOrder(t, msgs, want)
}

// TestRecordsCommittedButNeverPublished covers a process killed between
// commit and publish: rows nobody relayed, and rows a dead relay had
// claimed. A new relay delivers both.
func TestRecordsCommittedButNeverPublished(t *testing.T) {
	e := newRelayEnv(t, kafkapub.EmbeddedOptions{})
	for i := 1; i <= 4; i++ {
		e.enqueue(t, "Encounter/a", i)
		e.enqueue(t, "Encounter/b", i)
	}
	// A relay claimed a batch and died before publishing it.
	if recs, err := e.store.Claim(context.Background(), 10, 300*time.Millisecond); err != nil || len(recs) != 2 {
		t.Fatalf("claim = %d, %v", len(recs), err)
	}
	// Another relay is cancelled at once, mid-round.
	e.startRelay(t, kafkapub.RelayOptions{})()

	c := consumeRelayTopic(t, e.opts.Brokers)
	e.startRelay(t, kafkapub.RelayOptions{})
	checkRelayOrder(t, c.waitDistinct(t, 8, 10*time.Second), map[string]int64{"Encounter/a": 4, "Encounter/b": 4})
}

// TestTwoRelaysKeepPerKeyOrder runs two relays against one database while
// writers interleave changes over many keys.
func TestTwoRelaysKeepPerKeyOrder(t *testing.T) {
	e := newRelayEnv(t, kafkapub.EmbeddedOptions{})
	c := consumeRelayTopic(t, e.opts.Brokers)
	for range 2 {
		e.startRelay(t, kafkapub.RelayOptions{Batch: 16, Poll: 5 * time.Millisecond})
	}
	const keys, writers, perWriter = 40, 4, 100
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for i := range perWriter {
				e.enqueue(t, fmt.Sprintf("Encounter/%d", rng.IntN(keys)), w*perWriter+i)
			}
		})
	}
	wg.Wait()
	want := map[string]int64{}
	rows, err := e.db.Query(`SELECT key, last_seq FROM outbox_keys`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k string
		var n int64
		_ = rows.Scan(&k, &n)
		want[k] = n
	}
	rows.Close()
	msgs := c.waitDistinct(t, writers*perWriter, 20*time.Second)
	dups := checkRelayOrder(t, msgs, want)
	t.Logf("%d events over %d keys, %d duplicates", len(msgs), len(want), dups)
}

// TestDeadLetterTooLarge sends a record over the broker's message.max.bytes:
// it dies after MaxAttempts, later records of its key and other keys go on,
// and a replay after the broker accepts bigger messages delivers it.
func TestDeadLetterTooLarge(t *testing.T) {
	e := newRelayEnv(t, kafkapub.EmbeddedOptions{MaxMessageBytes: 64 << 10})
	ctx := context.Background()
	big := workitem.Message{Topic: relayTopic, Key: "Encounter/big", Value: make([]byte, 100<<10)}
	if err := e.store.Enqueue(ctx, big); err != nil {
		t.Fatal(err)
	}
	e.enqueue(t, "Encounter/big", 2)
	e.enqueue(t, "Encounter/small", 1)
	c := consumeRelayTopic(t, e.opts.Brokers)
	stop := e.startRelay(t, kafkapub.RelayOptions{Retry: workitem.RetryPolicy{MaxAttempts: 3, Base: 10 * time.Millisecond, Cap: 50 * time.Millisecond}})
	msgs := c.waitDistinct(t, 2, 10*time.Second)
	dead, err := e.store.ListDead(ctx, 0, 10)
	if err != nil || len(dead) != 1 || dead[0].Attempts != 3 || dead[0].Seq != 1 {
		t.Fatalf("dead = %+v, %v; want the big record after 3 attempts", dead, err)
	}
	t.Logf("dead letter error: %s", dead[0].LastError)
	for _, m := range msgs {
		if string(m.Key) == "Encounter/big" && relaySeqOf(t, m) != 2 {
			t.Errorf("big record was delivered")
		}
	}
	stop()

	// Replay once the broker accepts it: it comes at the end of its key.
	addr := e.broker.Addr()
	e.broker.Close()
	e.startBroker(t, addr, kafkapub.EmbeddedOptions{})
	e.ensureTopic(t)
	if err := e.store.Replay(ctx, dead[0].ID); err != nil {
		t.Fatal(err)
	}
	c2 := consumeRelayTopic(t, e.opts.Brokers)
	e.startRelay(t, kafkapub.RelayOptions{})
	got := c2.waitDistinct(t, 1, 10*time.Second)
	if len(got[0].Value) != 100<<10 || relaySeqOf(t, got[0]) != 3 {
		t.Errorf("replayed record: %d bytes, seq %d; want %d bytes at seq 3", len(got[0].Value), relaySeqOf(t, got[0]), 100<<10)
	}
}

func TestOversizedForWriterDiesAtOnce(t *testing.T) {
	e := newRelayEnv(t, kafkapub.EmbeddedOptions{})
	ctx := context.Background()
	if err := e.store.Enqueue(ctx, workitem.Message{Topic: relayTopic, Key: "Encounter/x", Value: make([]byte, 2<<20)}); err != nil {
		t.Fatal(err)
	}
	e.enqueue(t, "Encounter/x", 2)
	c := consumeRelayTopic(t, e.opts.Brokers)
	e.startRelay(t, kafkapub.RelayOptions{})
	c.waitDistinct(t, 1, 10*time.Second)
	dead, err := e.store.ListDead(ctx, 0, 10)
	if err != nil || len(dead) != 1 || dead[0].Attempts != 1 {
		t.Fatalf("dead = %+v, %v", dead, err)
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
			if err := store.Enqueue(ctx, workitem.Message{Topic: relayTopic, Key: "Encounter/slow", Value: []byte("v")}); err != nil {
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
