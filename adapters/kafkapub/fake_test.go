package kafkapub_test

import (
	"context"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// fakeOutbox is an in-memory workitem.Outbox keeping the interface's
// ordering guarantee: Claim hands out, per key, only the pending record of
// lowest Seq, and only once its lease or backoff has passed. The relay's
// cases (relaytest) run on it here and on the real PostgreSQL outbox in
// cmd/codebridge/relay_test.go.
type fakeOutbox struct {
	mu       sync.Mutex
	recs     []*fakeRecord // in ID order
	lastSeq  map[string]int64
	claimErr error       // when set, Claim fails with it
	claims   int         // Claim calls
	sweeps   []time.Time // the before of each DeleteSent
}

type fakeRecord struct {
	workitem.OutboxRecord
	next   time.Time // the lease or backoff: not claimable before
	sentAt time.Time
}

func newFakeOutbox() *fakeOutbox { return &fakeOutbox{lastSeq: map[string]int64{}} }

var _ workitem.Outbox = (*fakeOutbox)(nil)

// enqueue stores m as the next record of its key, as EnqueueTx does.
func (f *fakeOutbox) enqueue(m workitem.Message) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastSeq[m.Key]++
	f.recs = append(f.recs, &fakeRecord{OutboxRecord: workitem.OutboxRecord{Message: m, ID: int64(len(f.recs) + 1),
		Seq: f.lastSeq[m.Key], State: workitem.OutboxPending, CreatedAt: time.Now()}})
}

// record returns a copy of record id.
func (f *fakeOutbox) record(id int64) fakeRecord {
	f.mu.Lock()
	defer f.mu.Unlock()
	return *f.recs[id-1]
}

func (f *fakeOutbox) setClaimErr(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.claimErr = err
}

func (f *fakeOutbox) counts() (claims int, sweeps []time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.claims, slices.Clone(f.sweeps)
}

func (f *fakeOutbox) Claim(ctx context.Context, limit int, lease time.Duration) ([]workitem.OutboxRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.claims++
	if err := ctx.Err(); err != nil {
		return nil, workitem.Errorf(workitem.Transient, "fake outbox: %v", err)
	}
	if f.claimErr != nil {
		return nil, f.claimErr
	}
	head := map[string]*fakeRecord{} // per key, the pending record of lowest Seq
	for _, r := range f.recs {
		if h := head[r.Key]; r.State == workitem.OutboxPending && (h == nil || r.Seq < h.Seq) {
			head[r.Key] = r
		}
	}
	now := time.Now()
	var out []workitem.OutboxRecord
	for _, r := range f.recs { // ID order
		if len(out) < limit && head[r.Key] == r && !now.Before(r.next) {
			r.Attempts++
			r.next = now.Add(lease)
			out = append(out, r.OutboxRecord)
		}
	}
	return out, nil
}

func (f *fakeOutbox) MarkSent(_ context.Context, ids ...int64) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, id := range ids {
		if r := f.recs[id-1]; r.State == workitem.OutboxPending {
			r.State, r.sentAt = workitem.OutboxSent, time.Now()
			n++
		}
	}
	return n, nil
}

func (f *fakeOutbox) MarkFailed(_ context.Context, ids []int64, reason string, p workitem.RetryPolicy) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	dead := 0
	for _, id := range ids {
		r := f.recs[id-1]
		r.LastError = reason
		if r.Attempts >= p.MaxAttempts {
			r.State = workitem.OutboxDead
			dead++
			continue
		}
		r.next = time.Now().Add(p.Backoff(r.Attempts))
	}
	return dead, nil
}

func (f *fakeOutbox) MarkDead(_ context.Context, ids []int64, reason string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range ids {
		f.recs[id-1].State, f.recs[id-1].LastError = workitem.OutboxDead, reason
	}
	return nil
}

func (f *fakeOutbox) Release(_ context.Context, ids ...int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range ids {
		r := f.recs[id-1]
		r.next, r.Attempts = time.Time{}, max(r.Attempts-1, 0)
	}
	return nil
}

func (f *fakeOutbox) ListDead(_ context.Context, afterID int64, limit int) ([]workitem.OutboxRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []workitem.OutboxRecord
	for _, r := range f.recs {
		if r.State == workitem.OutboxDead && r.ID > afterID && len(out) < limit {
			out = append(out, r.OutboxRecord)
		}
	}
	return out, nil
}

func (f *fakeOutbox) Replay(_ context.Context, id int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if id < 1 || int(id) > len(f.recs) || f.recs[id-1].State != workitem.OutboxDead {
		return workitem.Errorf(workitem.NotFound, "no dead record %d", id)
	}
	r := f.recs[id-1]
	f.lastSeq[r.Key]++
	r.State, r.Seq, r.Attempts, r.next = workitem.OutboxPending, f.lastSeq[r.Key], 0, time.Time{}
	return nil
}

func (f *fakeOutbox) ReplayAll(ctx context.Context) (int64, error) {
	dead, _ := f.ListDead(ctx, 0, math.MaxInt)
	for _, r := range dead {
		if err := f.Replay(ctx, r.ID); err != nil {
			return 0, err
		}
	}
	return int64(len(dead)), nil
}

func (f *fakeOutbox) Stats(context.Context) (workitem.OutboxStats, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var s workitem.OutboxStats
	for _, r := range f.recs {
		switch r.State {
		case workitem.OutboxPending:
			s.Pending++
			s.OldestPending = max(s.OldestPending, time.Since(r.CreatedAt))
		case workitem.OutboxDead:
			s.Dead++
		}
	}
	return s, nil
}

func (f *fakeOutbox) DeleteSent(_ context.Context, before time.Time, limit int) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sweeps = append(f.sweeps, before)
	var n int64
	for _, r := range f.recs {
		if r.State == workitem.OutboxSent && r.sentAt.Before(before) && n < int64(limit) {
			r.State = "deleted" // IDs stay indexes: the record is only hidden
			n++
		}
	}
	return n, nil
}
