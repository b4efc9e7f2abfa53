package relaytest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/codebridge/codebridge/adapters/kafkapub"
	"github.com/codebridge/codebridge/mapping"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// NewEnvFunc gives a test its own empty outbox in an Env (see NewEnv).
type NewEnvFunc func(t testing.TB, bo kafkapub.EmbeddedOptions) *Env

// Run runs every relay case as a subtest, each on an Env of newEnv.
func Run(t *testing.T, newEnv NewEnvFunc) {
	for _, c := range []struct {
		name string
		run  func(*testing.T, NewEnvFunc)
	}{
		{"PublishesContractEvents", PublishesContractEvents},
		{"BrokerOutage", BrokerOutage},
		{"RecordsCommittedButNeverPublished", RecordsCommittedButNeverPublished},
		{"TwoRelaysKeepPerKeyOrder", TwoRelaysKeepPerKeyOrder},
		{"DeadLetterTooLarge", DeadLetterTooLarge},
		{"OversizedForWriterDiesAtOnce", OversizedForWriterDiesAtOnce},
	} {
		t.Run(c.name, func(t *testing.T) { c.run(t, newEnv) })
	}
}

// PublishesContractEvents relays three status changes of one encounter as
// CloudEvents in order and leaves nothing pending.
func PublishesContractEvents(t *testing.T, newEnv NewEnvFunc) {
	e := newEnv(t, kafkapub.EmbeddedOptions{})
	statuses := []string{"ready", "in-progress", "coded"}
	for i, st := range statuses {
		prev := ""
		if i > 0 {
			prev = statuses[i-1]
		}
		m, err := mapping.StatusMessage(Topic, mapping.StatusChange{WorkItemID: "wi-1", Encounter: "Encounter/e1",
			Patient: "Patient/p1", Status: st, PreviousStatus: prev, Actor: "alice", At: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		e.Enqueue(t, m)
	}
	c := Consume(t, e.Opts.Brokers)
	e.StartRelay(t, kafkapub.RelayOptions{})
	msgs := c.WaitDistinct(t, 3, 10*time.Second)
	CheckOrder(t, msgs, map[string]int64{"Encounter/e1": 3})
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
	// MarkSent follows the publish: give it a moment.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		st, err := e.Store.Stats(context.Background())
		if err == nil && st.Pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pending after delivery = %d, %v", st.Pending, err)
		}
	}
}

// BrokerOutage stops the broker while changes keep coming: writers see no
// error, the outbox grows, and a new broker on the same address receives
// everything in per-key order.
func BrokerOutage(t *testing.T, newEnv NewEnvFunc) {
	e := newEnv(t, kafkapub.EmbeddedOptions{})
	addr := e.Broker.Addr()
	e.StartRelay(t, kafkapub.RelayOptions{Retry: workitem.RetryPolicy{MaxAttempts: 2, Base: 20 * time.Millisecond, Cap: 200 * time.Millisecond}})
	e.EnqueueKey(t, "Encounter/warmup", 1)
	Consume(t, e.Opts.Brokers).WaitDistinct(t, 1, 10*time.Second)

	e.Broker.Close()
	want := map[string]int64{}
	for i := 1; i <= 30; i++ {
		for k := range 5 {
			key := fmt.Sprintf("Encounter/%d", k)
			e.EnqueueKey(t, key, i) // never fails: enqueueing does not touch Kafka
			want[key] = int64(i)
		}
	}
	time.Sleep(300 * time.Millisecond) // let the relay fail a few rounds
	st, err := e.Store.Stats(context.Background())
	if err != nil || st.Pending != 150 {
		t.Fatalf("pending during outage = %d, %v; want 150", st.Pending, err)
	}
	if st.Dead != 0 {
		t.Fatalf("an outage dead-lettered %d records", st.Dead)
	}

	e.StartBroker(t, addr, kafkapub.EmbeddedOptions{}) // the same address, empty
	e.EnsureTopic(t)
	msgs := Consume(t, e.Opts.Brokers).WaitDistinct(t, 150, 20*time.Second)
	CheckOrder(t, msgs, want)
}

// RecordsCommittedButNeverPublished covers a process killed between commit
// and publish: rows nobody relayed, and rows a dead relay had claimed. A
// new relay delivers both.
func RecordsCommittedButNeverPublished(t *testing.T, newEnv NewEnvFunc) {
	e := newEnv(t, kafkapub.EmbeddedOptions{})
	for i := 1; i <= 4; i++ {
		e.EnqueueKey(t, "Encounter/a", i)
		e.EnqueueKey(t, "Encounter/b", i)
	}
	// A relay claimed a batch and died before publishing it.
	if recs, err := e.Store.Claim(context.Background(), 10, 300*time.Millisecond); err != nil || len(recs) != 2 {
		t.Fatalf("claim = %d, %v", len(recs), err)
	}
	// Another relay is cancelled at once, mid-round.
	e.StartRelay(t, kafkapub.RelayOptions{})()

	c := Consume(t, e.Opts.Brokers)
	e.StartRelay(t, kafkapub.RelayOptions{})
	CheckOrder(t, c.WaitDistinct(t, 8, 10*time.Second), map[string]int64{"Encounter/a": 4, "Encounter/b": 4})
}

// TwoRelaysKeepPerKeyOrder runs two relays on one outbox while writers
// interleave changes over many keys.
func TwoRelaysKeepPerKeyOrder(t *testing.T, newEnv NewEnvFunc) {
	e := newEnv(t, kafkapub.EmbeddedOptions{})
	c := Consume(t, e.Opts.Brokers)
	for range 2 {
		e.StartRelay(t, kafkapub.RelayOptions{Batch: 16, Poll: 5 * time.Millisecond})
	}
	const keys, writers, perWriter = 40, 4, 100
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for i := range perWriter {
				e.EnqueueKey(t, fmt.Sprintf("Encounter/%d", rng.IntN(keys)), w*perWriter+i)
			}
		})
	}
	wg.Wait()
	want := e.LastSeqs()
	msgs := c.WaitDistinct(t, writers*perWriter, 20*time.Second)
	dups := CheckOrder(t, msgs, want)
	t.Logf("%d events over %d keys, %d duplicates", len(msgs), len(want), dups)
}

// DeadLetterTooLarge sends a record over the broker's message.max.bytes: it
// dies after MaxAttempts, later records of its key and other keys go on,
// and a replay after the broker accepts bigger messages delivers it.
func DeadLetterTooLarge(t *testing.T, newEnv NewEnvFunc) {
	e := newEnv(t, kafkapub.EmbeddedOptions{MaxMessageBytes: 64 << 10})
	ctx := context.Background()
	e.Enqueue(t, workitem.Message{Topic: Topic, Key: "Encounter/big", Value: make([]byte, 100<<10)})
	e.EnqueueKey(t, "Encounter/big", 2)
	e.EnqueueKey(t, "Encounter/small", 1)
	c := Consume(t, e.Opts.Brokers)
	stop := e.StartRelay(t, kafkapub.RelayOptions{Retry: workitem.RetryPolicy{MaxAttempts: 3, Base: 10 * time.Millisecond, Cap: 50 * time.Millisecond}})
	msgs := c.WaitDistinct(t, 2, 10*time.Second)
	dead, err := e.Store.ListDead(ctx, 0, 10)
	if err != nil || len(dead) != 1 || dead[0].Attempts != 3 || dead[0].Seq != 1 {
		t.Fatalf("dead = %+v, %v; want the big record after 3 attempts", dead, err)
	}
	t.Logf("dead letter error: %s", dead[0].LastError)
	for _, m := range msgs {
		if string(m.Key) == "Encounter/big" && SeqOf(t, m) != 2 {
			t.Errorf("big record was delivered")
		}
	}
	stop()

	// Replay once the broker accepts it: it comes at the end of its key.
	addr := e.Broker.Addr()
	e.Broker.Close()
	e.StartBroker(t, addr, kafkapub.EmbeddedOptions{})
	e.EnsureTopic(t)
	if err := e.Store.Replay(ctx, dead[0].ID); err != nil {
		t.Fatal(err)
	}
	c2 := Consume(t, e.Opts.Brokers)
	e.StartRelay(t, kafkapub.RelayOptions{})
	got := c2.WaitDistinct(t, 1, 10*time.Second)
	if len(got[0].Value) != 100<<10 || SeqOf(t, got[0]) != 3 {
		t.Errorf("replayed record: %d bytes, seq %d; want %d bytes at seq 3", len(got[0].Value), SeqOf(t, got[0]), 100<<10)
	}
}

// OversizedForWriterDiesAtOnce: a record over the writer's own limit is
// dead-lettered on its first attempt, and its key goes on.
func OversizedForWriterDiesAtOnce(t *testing.T, newEnv NewEnvFunc) {
	e := newEnv(t, kafkapub.EmbeddedOptions{})
	ctx := context.Background()
	e.Enqueue(t, workitem.Message{Topic: Topic, Key: "Encounter/x", Value: make([]byte, 2<<20)})
	e.EnqueueKey(t, "Encounter/x", 2)
	c := Consume(t, e.Opts.Brokers)
	e.StartRelay(t, kafkapub.RelayOptions{})
	c.WaitDistinct(t, 1, 10*time.Second)
	dead, err := e.Store.ListDead(ctx, 0, 10)
	if err != nil || len(dead) != 1 || dead[0].Attempts != 1 {
		t.Fatalf("dead = %+v, %v", dead, err)
	}
}
