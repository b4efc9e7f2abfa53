// Package relaytest runs the outbox relay's test cases against any
// workitem.Outbox and an embedded Kafka-protocol broker: kafkapub runs them
// on an in-memory fake, cmd/codebridge on the real PostgreSQL outbox store.
// It is a test helper (like postgres/pgtest): only tests import it.
package relaytest

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/codebridge/codebridge/adapters/kafkapub"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// Topic is the topic the cases publish to; it has Partitions partitions.
const (
	Topic      = "test.status"
	Partitions = 3
)

// Env is one test's outbox, broker and writer.
type Env struct {
	Store  workitem.Outbox
	Broker *kafkapub.Embedded
	Opts   kafkapub.Options
	W      *kafka.Writer

	enqueue func(context.Context, workitem.Message) error
	mu      sync.Mutex
	lastSeq map[string]int64 // per key, how many messages Enqueue committed
}

// NewEnv starts a broker (bo) with Topic and a writer to it, over store,
// to which enqueue commits a message as a writer's transaction would.
func NewEnv(t testing.TB, store workitem.Outbox, enqueue func(context.Context, workitem.Message) error, bo kafkapub.EmbeddedOptions) *Env {
	t.Helper()
	e := &Env{Store: store, enqueue: enqueue, lastSeq: map[string]int64{}}
	e.StartBroker(t, "127.0.0.1:0", bo)
	e.Opts = kafkapub.Options{Brokers: []string{e.Broker.Addr()}, WriteTimeout: 2 * time.Second}
	e.EnsureTopic(t)
	w, err := kafkapub.NewWriter(e.Opts)
	if err != nil {
		t.Fatal(err)
	}
	e.W = w
	t.Cleanup(func() { w.Close() })
	return e
}

// StartBroker starts a broker on addr (port 0 picks one) until the test
// ends.
func (e *Env) StartBroker(t testing.TB, addr string, bo kafkapub.EmbeddedOptions) {
	t.Helper()
	b, err := kafkapub.StartEmbedded(addr, bo)
	if err != nil {
		t.Fatal(err)
	}
	e.Broker = b
	t.Cleanup(b.Close)
}

// EnsureTopic creates Topic on the broker.
func (e *Env) EnsureTopic(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := kafkapub.EnsureTopics(ctx, e.Opts, Partitions, 1, Topic); err != nil {
		t.Fatal(err)
	}
}

// StartRelay runs a relay until the test ends (or cancel is called); zero
// Retry and Poll get quick test values.
func (e *Env) StartRelay(t testing.TB, o kafkapub.RelayOptions) (cancel func()) {
	t.Helper()
	if o.Retry.MaxAttempts == 0 {
		o.Retry = workitem.RetryPolicy{MaxAttempts: 5, Base: 20 * time.Millisecond, Cap: 200 * time.Millisecond}
	}
	if o.Poll == 0 {
		o.Poll = 10 * time.Millisecond
	}
	o.Logger = slog.New(slog.DiscardHandler)
	return RunRelay(t, kafkapub.NewRelay(e.Store, e.W, o))
}

// RunRelay runs r until the test ends or cancel is called; cancel returns
// once Run has.
func RunRelay(t testing.TB, r *kafkapub.Relay) (cancel func()) {
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	var once sync.Once
	cancel = func() { once.Do(func() { stop(); <-done }) }
	t.Cleanup(cancel)
	return cancel
}

// Enqueue commits m.
func (e *Env) Enqueue(t testing.TB, m workitem.Message) {
	t.Helper()
	if err := e.enqueue(context.Background(), m); err != nil {
		t.Fatalf("enqueue: %v", err)
	}
	e.mu.Lock()
	e.lastSeq[m.Key]++
	e.mu.Unlock()
}

// EnqueueKey commits one message for key to Topic, value "key#i".
func (e *Env) EnqueueKey(t testing.TB, key string, i int) {
	e.Enqueue(t, workitem.Message{Topic: Topic, Key: key, Value: fmt.Appendf(nil, "%s#%d", key, i)})
}

// LastSeqs returns, per key, the Seq of the last message enqueued.
func (e *Env) LastSeqs() map[string]int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]int64, len(e.lastSeq))
	for k, v := range e.lastSeq {
		out[k] = v
	}
	return out
}

// Consumer reads every partition of Topic from the start with plain
// kafka-go readers (no group), as an outside client would.
type Consumer struct {
	mu   sync.Mutex
	msgs []kafka.Message
}

// Consume starts a Consumer until the test ends.
func Consume(t testing.TB, brokers []string) *Consumer {
	t.Helper()
	c := &Consumer{}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for p := range Partitions {
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: Topic, Partition: p,
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

// WaitDistinct waits until n distinct (key, seq) pairs arrived and returns
// every message so far.
func (c *Consumer) WaitDistinct(t testing.TB, n int, timeout time.Duration) []kafka.Message {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		c.mu.Lock()
		msgs := append([]kafka.Message(nil), c.msgs...)
		c.mu.Unlock()
		type keySeq struct {
			key string
			seq int64
		}
		seen := map[keySeq]bool{}
		for _, m := range msgs {
			seen[keySeq{string(m.Key), SeqOf(t, m)}] = true
		}
		if len(seen) >= n {
			return msgs
		} else if time.Now().After(deadline) {
			t.Fatalf("got %d distinct events, want %d", len(seen), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// SeqOf reads m's per-key sequence header.
func SeqOf(t testing.TB, m kafka.Message) int64 {
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

// CheckOrder verifies, per key, that first occurrences of seqs arrive as
// 1, 2, 3, ... without gaps, up to want[key]; it returns the duplicates.
func CheckOrder(t testing.TB, msgs []kafka.Message, want map[string]int64) (dups int) {
	t.Helper()
	next := map[string]int64{}
	for _, m := range msgs { // per partition, msgs keep broker order; one key has one partition
		k, s := string(m.Key), SeqOf(t, m)
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
