package kafkain_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/codebridge/codebridge/adapters/kafkain"
	"github.com/codebridge/codebridge/mapping/ingest"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// These run the Consumer against an embedded Kafka-protocol broker (kfake)
// and a fake of the ingest use case; the end-to-end cases with the real
// database are in cmd/codebridge/inbound_test.go.

const (
	inTopic  = "in"
	dlqTopic = "in.dlq"
	group    = "codebridge-test"
)

// call is one RawSeeded call.
type call struct{ actor, seed, value string }

// fakeIngester records calls and answers with answer (nil: ingested).
type fakeIngester struct {
	mu     sync.Mutex
	calls  []call
	answer func(value string, attempt int) (ingest.Result, error)
	tries  map[string]int
}

func (f *fakeIngester) RawSeeded(_ context.Context, actor, seed string, raw []byte) (ingest.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call{actor, seed, string(raw)})
	if f.tries == nil {
		f.tries = map[string]int{}
	}
	f.tries[seed]++
	if f.answer != nil {
		return f.answer(string(raw), f.tries[seed])
	}
	return ingest.Result{Entries: []ingest.Entry{{Status: 201}}}, nil
}

func (f *fakeIngester) snapshot() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

// newBroker starts a one-node broker with the given topics (one partition
// each) and returns its address.
func newBroker(t *testing.T, topics ...string) string {
	t.Helper()
	opts := []kfake.Opt{kfake.NumBrokers(1)}
	if len(topics) > 0 {
		opts = append(opts, kfake.SeedTopics(1, topics...))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()[0]
}

// start runs a Consumer on addr until the test ends or stop is called;
// stop cancels Run, waits for it and closes the consumer.
func start(t *testing.T, addr string, ing kafkain.Ingester) (stop func()) {
	t.Helper()
	c, err := kafkain.New(ing, kafkain.Options{Brokers: []string{addr}, Topic: inTopic, Group: group,
		DeadLetterTopic: dlqTopic, MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			<-done
			if err := c.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func produce(t *testing.T, addr string, values ...string) {
	t.Helper()
	w := &kafka.Writer{Addr: kafka.TCP(addr), Topic: inTopic, RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond}
	defer w.Close()
	msgs := make([]kafka.Message, len(values))
	for i, v := range values {
		msgs[i] = kafka.Message{Key: []byte("Encounter/e1"), Value: []byte(v),
			Headers: []kafka.Header{{Key: "traceparent", Value: []byte("00-t" + v)}}}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatalf("produce: %v", err)
	}
}

// committed is the group's committed offset on the inbound topic's one
// partition (0 when none).
func committed(t *testing.T, addr string) int64 {
	t.Helper()
	client := &kafka.Client{Addr: kafka.TCP(addr), Timeout: 5 * time.Second}
	res, err := client.OffsetFetch(context.Background(), &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{inTopic: {0}}})
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, p := range res.Topics[inTopic] { // none before the group's first commit
		n = max(n, p.CommittedOffset)
	}
	return n
}

// readDLQ reads the dead-letter topic's messages up to its end.
func readDLQ(t *testing.T, addr string) []kafka.Message {
	t.Helper()
	conn, err := kafka.DialLeader(context.Background(), "tcp", addr, dlqTopic, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	last, err := conn.ReadLastOffset()
	if err != nil {
		t.Fatal(err)
	}
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{addr}, Topic: dlqTopic, Partition: 0, MaxWait: 20 * time.Millisecond})
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out []kafka.Message
	for int64(len(out)) < last {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			t.Fatalf("dead-letter topic: after %d of %d: %v", len(out), last, err)
		}
		out = append(out, m)
	}
	return out
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func values(calls []call) []string {
	out := make([]string, len(calls))
	for i, c := range calls {
		out[i] = c.value
	}
	return out
}

// TestConsumerIngestsInOrderAndCommits: each message goes through ingest
// once, in partition order, as actor kafka:<topic> with a seed naming its
// topic, partition and offset; every offset is committed; nothing is
// dead-lettered.
func TestConsumerIngestsInOrderAndCommits(t *testing.T) {
	addr := newBroker(t, inTopic, dlqTopic)
	ing := &fakeIngester{}
	start(t, addr, ing)
	produce(t, addr, "m0", "m1", "m2")
	waitFor(t, "3 offsets committed", func() bool { return committed(t, addr) == 3 })
	calls := ing.snapshot()
	if diff := cmp.Diff([]string{"m0", "m1", "m2"}, values(calls)); diff != "" {
		t.Errorf("ingested mismatch (-want +got):\n%s", diff)
	}
	for i, c := range calls {
		if c.actor != "kafka:"+inTopic || !strings.HasPrefix(c.seed, fmt.Sprintf("%s/0/%d/", inTopic, i)) {
			t.Errorf("call %d: actor %q, seed %q", i, c.actor, c.seed)
		}
	}
	if dl := readDLQ(t, addr); len(dl) != 0 {
		t.Errorf("%d messages dead-lettered, want 0", len(dl))
	}
}

// TestConsumerDeadLettersWhatCannotBeProcessed: a rejected message and a
// partially ingested batch go to the dead-letter topic with their key,
// value, own headers and the verdict; consumption goes on and every offset
// is committed.
func TestConsumerDeadLettersWhatCannotBeProcessed(t *testing.T) {
	addr := newBroker(t, inTopic, dlqTopic)
	stale := workitem.Errorf(workitem.Precondition, "version mismatch")
	ing := &fakeIngester{answer: func(v string, _ int) (ingest.Result, error) {
		switch v {
		case "bad":
			return ingest.Result{}, workitem.Errorf(workitem.Invalid, "body is not JSON")
		case "partial":
			return ingest.Result{BundleType: "batch", Entries: []ingest.Entry{{Status: 201}, {Index: 1, Err: stale}}}, nil
		}
		return ingest.Result{Entries: []ingest.Entry{{Status: 201}}}, nil
	}}
	start(t, addr, ing)
	produce(t, addr, "bad", "partial", "good")
	waitFor(t, "3 offsets committed", func() bool { return committed(t, addr) == 3 })
	type dead struct{ Key, Value, Trace, Kind, Outcome, Offset string }
	var got []dead
	for _, m := range readDLQ(t, addr) {
		h := map[string]string{}
		for _, x := range m.Headers {
			h[x.Key] = string(x.Value)
		}
		got = append(got, dead{string(m.Key), string(m.Value), h["traceparent"], h["codebridge-error-kind"],
			h["codebridge-outcome"], h["codebridge-source-offset"]})
		if !bytes.Contains([]byte(h["codebridge-operation-outcome"]), []byte(`"resourceType":"OperationOutcome"`)) {
			t.Errorf("dead letter %s: no OperationOutcome header", m.Value)
		}
	}
	want := []dead{
		{"Encounter/e1", "bad", "00-tbad", "invalid", "rejected", "0"},
		{"Encounter/e1", "partial", "00-tpartial", workitem.Precondition.String(), "partially-ingested", "1"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("dead letters mismatch (-want +got):\n%s", diff)
	}
}

// TestConsumerRetriesReceiverFaults: a Transient failure is retried with
// the same seed until it goes through; the offset is committed only then.
func TestConsumerRetriesReceiverFaults(t *testing.T) {
	addr := newBroker(t, inTopic, dlqTopic)
	ing := &fakeIngester{answer: func(_ string, attempt int) (ingest.Result, error) {
		if attempt < 3 {
			return ingest.Result{}, workitem.Errorf(workitem.Transient, "database unavailable")
		}
		return ingest.Result{Entries: []ingest.Entry{{Status: 201}}}, nil
	}}
	start(t, addr, ing)
	produce(t, addr, "m0")
	waitFor(t, "the offset committed", func() bool { return committed(t, addr) == 1 })
	calls := ing.snapshot()
	if len(calls) != 3 || calls[0].seed != calls[1].seed || calls[1].seed != calls[2].seed {
		t.Errorf("calls = %+v; want 3 attempts with one seed", calls)
	}
	if dl := readDLQ(t, addr); len(dl) != 0 {
		t.Errorf("%d messages dead-lettered, want 0", len(dl))
	}
}

// TestConsumerShutdownLeavesFaultedMessageUncommitted: a message still
// failing when the consumer stops is not committed, so the next member of
// the group gets it again.
func TestConsumerShutdownLeavesFaultedMessageUncommitted(t *testing.T) {
	addr := newBroker(t, inTopic, dlqTopic)
	down := &fakeIngester{answer: func(string, int) (ingest.Result, error) {
		return ingest.Result{}, workitem.Errorf(workitem.Transient, "database unavailable")
	}}
	stop := start(t, addr, down)
	produce(t, addr, "m0")
	waitFor(t, "two attempts", func() bool { return len(down.snapshot()) >= 2 })
	stop()
	if got := committed(t, addr); got != 0 {
		t.Fatalf("committed offset %d after a shutdown mid-retry, want 0", got)
	}
	up := &fakeIngester{}
	start(t, addr, up)
	waitFor(t, "the offset committed by the next member", func() bool { return committed(t, addr) == 1 })
	if got := up.snapshot(); len(got) != 1 || got[0].value != "m0" || got[0].seed != down.snapshot()[0].seed {
		t.Errorf("redelivery = %+v; want m0 with the first attempt's seed", got)
	}
}

// TestReadyNeedsBothTopics: Ready fails, naming the topic, until both the
// inbound and the dead-letter topic exist.
func TestReadyNeedsBothTopics(t *testing.T) {
	addr := newBroker(t, inTopic)
	c, err := kafkain.New(&fakeIngester{}, kafkain.Options{Brokers: []string{addr}, Topic: inTopic, Group: group, DeadLetterTopic: dlqTopic})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Ready(ctx); err == nil || !strings.Contains(err.Error(), dlqTopic) {
		t.Fatalf("Ready without the dead-letter topic = %v; want an error naming %s", err, dlqTopic)
	}
	client := &kafka.Client{Addr: kafka.TCP(addr), Timeout: 5 * time.Second}
	if _, err := client.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{
		{Topic: dlqTopic, NumPartitions: 1, ReplicationFactor: 1}}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Ready(ctx); err != nil {
		t.Errorf("Ready with both topics: %v", err)
	}
}

func TestNewRequiresTopicsAndGroup(t *testing.T) {
	full := kafkain.Options{Brokers: []string{"127.0.0.1:9"}, Topic: inTopic, Group: group, DeadLetterTopic: dlqTopic}
	for _, tc := range []struct {
		name string
		edit func(*kafkain.Options)
	}{
		{"no brokers", func(o *kafkain.Options) { o.Brokers = nil }},
		{"no topic", func(o *kafkain.Options) { o.Topic = "" }},
		{"no group", func(o *kafkain.Options) { o.Group = "" }},
		{"no dead-letter topic", func(o *kafkain.Options) { o.DeadLetterTopic = "" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := full
			tc.edit(&o)
			if _, err := kafkain.New(&fakeIngester{}, o); err == nil {
				t.Error("New accepted incomplete options")
			}
		})
	}
	c, err := kafkain.New(&fakeIngester{}, full)
	if err != nil {
		t.Fatalf("New with full options: %v", err)
	}
	c.Close()
}
