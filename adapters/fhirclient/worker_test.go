package fhirclient

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// fakeQueue is an in-memory delivery queue: Claim hands out the pending
// rows in order, up to limit, and records the outcome calls.
type fakeQueue struct {
	mu       sync.Mutex
	pending  []workitem.ClaimDelivery
	claimErr error
	claims   int
	outcomes []string // "delivered 1", "failed 2 permanent", "released 3"
}

func (q *fakeQueue) Claim(_ context.Context, limit int, _ time.Duration) ([]workitem.ClaimDelivery, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.claims++
	if q.claimErr != nil {
		return nil, q.claimErr
	}
	n := min(limit, len(q.pending))
	out := q.pending[:n:n]
	q.pending = q.pending[n:]
	return out, nil
}

func (q *fakeQueue) note(s string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.outcomes = append(q.outcomes, s)
}

func (q *fakeQueue) MarkDelivered(_ context.Context, id int64) error {
	q.note(fmt.Sprintf("delivered %d", id))
	return nil
}

func (q *fakeQueue) MarkFailed(_ context.Context, id int64, _ string, permanent bool) (bool, error) {
	s := fmt.Sprintf("failed %d", id)
	if permanent {
		s += " permanent"
	}
	q.note(s)
	return permanent, nil
}

func (q *fakeQueue) Release(_ context.Context, id int64) error {
	q.note(fmt.Sprintf("released %d", id))
	return nil
}

func (q *fakeQueue) setClaimErr(err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.claimErr = err
}

func (q *fakeQueue) add(ids ...int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, id := range ids {
		q.pending = append(q.pending, workitem.ClaimDelivery{ID: id, ClaimID: "c", Version: 1})
	}
}

func (q *fakeQueue) state() (claims int, outcomes []string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.claims, append([]string(nil), q.outcomes...)
}

// fakeDeliverer answers each delivery id with errs[id] (nil: accepted).
type fakeDeliverer struct{ errs map[int64]error }

func (d fakeDeliverer) DeliverClaim(_ context.Context, c workitem.ClaimDelivery) error {
	return d.errs[c.ID]
}

func runWorker(t *testing.T, w *Worker) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

func waitOutcomes(t *testing.T, q *fakeQueue, n int) []string {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if _, got := q.state(); len(got) >= n {
			return got
		} else if time.Now().After(deadline) {
			t.Fatalf("outcomes = %v; want %d", got, n)
		}
	}
}

// TestWorkerRecordsEachOutcome: accepted, retryable and permanent failures
// are recorded on their rows, and a round that claimed rows is followed at
// once by the next (Poll is an hour here).
func TestWorkerRecordsEachOutcome(t *testing.T) {
	q := &fakeQueue{}
	q.add(1, 2, 3)
	d := fakeDeliverer{errs: map[int64]error{
		2: &DeliveryError{Reason: "503", Err: errors.New("unavailable")},
		3: &DeliveryError{Reason: "422", Permanent: true},
	}}
	runWorker(t, NewWorker(q, d, WorkerOptions{Batch: 1, Poll: time.Hour}))
	got := waitOutcomes(t, q, 3)
	if diff := cmp.Diff([]string{"delivered 1", "failed 2", "failed 3 permanent"}, got); diff != "" {
		t.Errorf("outcomes mismatch (-want +got):\n%s", diff)
	}
}

// TestWorkerBacksOffOnQueueErrors: a failing Claim is retried with a
// growing wait, not every Poll, and the worker goes on once the queue is
// back.
func TestWorkerBacksOffOnQueueErrors(t *testing.T) {
	q := &fakeQueue{}
	q.setClaimErr(workitem.Errorf(workitem.Transient, "database unavailable"))
	runWorker(t, NewWorker(q, fakeDeliverer{}, WorkerOptions{Poll: 10 * time.Millisecond}))
	time.Sleep(400 * time.Millisecond) // without back-off: ~40 rounds; with it ≈ 5
	if claims, _ := q.state(); claims < 2 || claims > 8 {
		t.Errorf("%d Claim calls in 400 ms at Poll 10 ms; want 2..8 (backing off)", claims)
	}
	q.setClaimErr(nil)
	q.add(1)
	waitOutcomes(t, q, 1)
}

// TestWorkerReleasesOnShutdown: a delivery cut short by the shutdown is
// released, its attempt not counted.
func TestWorkerReleasesOnShutdown(t *testing.T) {
	q := &fakeQueue{}
	q.add(1)
	ctx, cancel := context.WithCancel(context.Background())
	w := NewWorker(q, cancelling{cancel}, WorkerOptions{})
	if n, err := w.RunOnce(ctx); n != 1 || err != nil {
		t.Fatalf("RunOnce = %d, %v", n, err)
	}
	if _, got := q.state(); !cmp.Equal(got, []string{"released 1"}) {
		t.Errorf("outcomes = %v; want [released 1]", got)
	}
}

// cancelling ends the worker's context mid-delivery, as a shutdown does.
type cancelling struct{ cancel context.CancelFunc }

func (c cancelling) DeliverClaim(ctx context.Context, _ workitem.ClaimDelivery) error {
	c.cancel()
	return ctx.Err()
}
