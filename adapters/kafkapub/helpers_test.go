package kafkapub_test

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

const (
	topic      = "test.status"
	partitions = 3
)

// env is one test's fake outbox, embedded broker and writer.
type env struct {
	store  *fakeOutbox
	broker *kafkapub.Embedded
	opts   kafkapub.Options
	w      *kafka.Writer
}

func newEnv(t testing.TB, bo kafkapub.EmbeddedOptions) *env {
	t.Helper()
	e := &env{store: newFakeOutbox()}
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
	return runRelay(t, kafkapub.NewRelay(e.store, e.w, o))
}

// runRelay runs r until the test ends or cancel is called; cancel returns
// once Run has.
func runRelay(t testing.TB, r *kafkapub.Relay) (cancel func()) {
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	var once sync.Once
	cancel = func() { once.Do(func() { stop(); <-done }) }
	t.Cleanup(cancel)
	return cancel
}

// enqueue stores one message for key, value "key#i".
func (e *env) enqueue(key string, i int) {
	e.store.enqueue(workitem.Message{Topic: topic, Key: key, Value: fmt.Appendf(nil, "%s#%d", key, i)})
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
				c.mu.Lock()
				c.msgs = append(c.msgs, m)
				c.mu.Unlock()
			}
		})
	}
	t.Cleanup(func() { cancel(); wg.Wait() })
	return c
}

// waitDistinct waits until n distinct (key, seq) pairs arrived.
func (c *consumer) waitDistinct(t testing.TB, n int, timeout time.Duration) []kafka.Message {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		c.mu.Lock()
		msgs := append([]kafka.Message(nil), c.msgs...)
		c.mu.Unlock()
		seen := map[string]bool{}
		for _, m := range msgs {
			seen[fmt.Sprintf("%s/%d", m.Key, seqOf(t, m))] = true
		}
		if len(seen) >= n {
			return msgs
		} else if time.Now().After(deadline) {
			t.Fatalf("got %d distinct events, want %d", len(seen), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
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
