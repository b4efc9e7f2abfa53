package kafkapub_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/codebridge/codebridge/adapters/kafkapub"
	"github.com/codebridge/codebridge/adapters/kafkapub/relaytest"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// okPublisher accepts every message.
type okPublisher struct {
	mu sync.Mutex
	n  int
}

func (p *okPublisher) WriteMessages(_ context.Context, msgs ...kafka.Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n += len(msgs)
	return nil
}

func (p *okPublisher) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestRunNextRoundAtOnce: after a round that claimed records the next round
// starts at once, so a backlog drains without waiting Poll between batches.
func TestRunNextRoundAtOnce(t *testing.T) {
	store := newFakeOutbox()
	for _, k := range []string{"a", "b", "c", "d"} {
		store.enqueue(workitem.Message{Topic: relaytest.Topic, Key: k, Value: []byte("v")})
	}
	pub := &okPublisher{}
	start := time.Now()
	relaytest.RunRelay(t, kafkapub.NewRelay(store, pub, kafkapub.RelayOptions{Batch: 1, Poll: time.Hour}))
	waitFor(t, "4 publishes", func() bool { return pub.count() == 4 })
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("draining 4 batches took %v", d)
	}
}

// TestRunBacksOffOnStoreErrors: a failing Claim is retried with a growing
// wait (Poll, 3·Poll, 7·Poll, ...), not every Poll, and the relay goes on
// once the store is back.
func TestRunBacksOffOnStoreErrors(t *testing.T) {
	store := newFakeOutbox()
	store.setClaimErr(workitem.Errorf(workitem.Transient, "database unavailable"))
	pub := &okPublisher{}
	cancel := relaytest.RunRelay(t, kafkapub.NewRelay(store, pub, kafkapub.RelayOptions{Poll: 10 * time.Millisecond}))
	time.Sleep(400 * time.Millisecond) // without back-off: ~40 rounds; with it: 10+30+70+150 ms... ≈ 5
	if claims, _ := store.counts(); claims < 2 || claims > 8 {
		t.Errorf("%d Claim calls in 400 ms at Poll 10 ms; want 2..8 (backing off)", claims)
	}
	store.setClaimErr(nil)
	store.enqueue(workitem.Message{Topic: relaytest.Topic, Key: "k", Value: []byte("v")})
	waitFor(t, "the publish after the outage", func() bool { return pub.count() == 1 })
	cancel()
}

// TestRunSweepsOnItsOwnSchedule: the retention sweep runs between rounds
// once every SweepEvery (not every round), deleting what was sent before
// now - Retention.
func TestRunSweepsOnItsOwnSchedule(t *testing.T) {
	store := newFakeOutbox()
	o := kafkapub.RelayOptions{Poll: 5 * time.Millisecond, SweepEvery: 100 * time.Millisecond, Retention: time.Hour}
	start := time.Now()
	cancel := relaytest.RunRelay(t, kafkapub.NewRelay(store, &okPublisher{}, o))
	waitFor(t, "two sweeps", func() bool { _, s := store.counts(); return len(s) >= 2 })
	cancel()
	claims, sweeps := store.counts()
	elapsed := time.Since(start)
	if most := int(elapsed/o.SweepEvery) + 1; len(sweeps) > most {
		t.Errorf("%d sweeps in %v; want at most %d", len(sweeps), elapsed, most)
	}
	if claims <= len(sweeps) {
		t.Errorf("%d rounds for %d sweeps: the sweep should not run every round", claims, len(sweeps))
	}
	if first := sweeps[0].Add(o.Retention).Sub(start); first < o.SweepEvery {
		t.Errorf("first sweep %v after start; want after SweepEvery (%v)", first, o.SweepEvery)
	}
	for _, before := range sweeps {
		if age := time.Since(before); age < o.Retention || age > o.Retention+elapsed {
			t.Errorf("swept records sent before now-%v; want now-%v", age, o.Retention)
		}
	}
}
