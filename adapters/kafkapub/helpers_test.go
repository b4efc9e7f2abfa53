package kafkapub_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/codebridge/codebridge/adapters/kafkapub"
	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
	"github.com/codebridge/codebridge/mapping/workitem"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

const (
	topic      = "test.status"
	partitions = 3
)

// env is one test's database, broker and writer.
type env struct {
	db     *postgres.DB
	store  *postgres.OutboxStore
	broker *kafkapub.Embedded
	opts   kafkapub.Options
	w      *kafka.Writer
}

func newEnv(t testing.TB, bo kafkapub.EmbeddedOptions) *env {
	t.Helper()
	db := pgtest.New(t)
	e := &env{db: db, store: postgres.NewOutboxStore(db)}
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

func (e *env) startBroker(t testing.TB, addr string, bo kafkapub.EmbeddedOptions) {
	t.Helper()
	b, err := kafkapub.StartEmbedded(addr, bo)
	if err != nil {
		t.Fatal(err)
	}
	e.broker = b
	t.Cleanup(b.Close)
}

func (e *env) ensureTopic(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := kafkapub.EnsureTopics(ctx, e.opts, partitions, 1, topic); err != nil {
		t.Fatal(err)
	}
}

// startRelay runs a relay until the test ends (or cancel is called).
func (e *env) startRelay(t testing.TB, o kafkapub.RelayOptions) (cancel func()) {
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
func (e *env) enqueue(t testing.TB, key string, i int) {
	t.Helper()
	m := workitem.Message{Topic: topic, Key: key, Value: fmt.Appendf(nil, "%s#%d", key, i)}
	if err := e.store.Enqueue(context.Background(), m); err != nil {
		t.Fatalf("enqueue: %v", err)
	}
}

// consumer reads every partition of topic from the start with plain
// kafka-go readers (no group), as an outside client would.
type consumer struct {
	mu   sync.Mutex
	msgs []kafka.Message
}

func consume(t testing.TB, brokers []string) *consumer {
	t.Helper()
	c := &consumer{}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for p := range partitions {
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, Topic: topic, Partition: p,
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

func (c *consumer) snapshot() []kafka.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]kafka.Message(nil), c.msgs...)
}

// waitDistinct waits until n distinct (key, seq) pairs arrived.
func (c *consumer) waitDistinct(t testing.TB, n int, timeout time.Duration) []kafka.Message {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		msgs := c.snapshot()
		if got := len(firstSeqs(t, msgs)); got >= n {
			return msgs
		} else if time.Now().After(deadline) {
			t.Fatalf("got %d distinct events, want %d", got, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type keySeq struct {
	key string
	seq int64
}

// firstSeqs returns the set of distinct (key, seq) consumed.
func firstSeqs(t testing.TB, msgs []kafka.Message) map[keySeq]bool {
	seen := map[keySeq]bool{}
	for _, m := range msgs {
		seen[keySeq{string(m.Key), seqOf(t, m)}] = true
	}
	return seen
}

func seqOf(t testing.TB, m kafka.Message) int64 {
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

// checkOrder verifies, per key, that first occurrences of seqs arrive as
// 1, 2, 3, ... without gaps, up to want[key]; it returns the duplicates.
func checkOrder(t testing.TB, msgs []kafka.Message, want map[string]int64) (dups int) {
	t.Helper()
	next := map[string]int64{}
	for _, m := range msgs { // per partition, msgs keep broker order; one key has one partition
		k, s := string(m.Key), seqOf(t, m)
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
