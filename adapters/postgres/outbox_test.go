package postgres_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
	"github.com/codebridge/codebridge/mapping/workitem"
)

func msg(key string, i int) workitem.Message {
	return workitem.Message{Topic: "t", Key: key, Value: fmt.Appendf(nil, "%s#%d", key, i),
		Headers: map[string]string{"h": "v"}}
}

func countOutbox(t *testing.T, db *postgres.DB) (n int) {
	t.Helper()
	if err := db.QueryRow(`SELECT count(*) FROM outbox`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestEnqueueTxOneRowPerMessageAndRollback(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	if err := db.Transact(ctx, nil, func(tx *sql.Tx) error {
		return postgres.EnqueueTx(ctx, tx, msg("Encounter/a", 1), msg("Encounter/b", 1), msg("Encounter/a", 2))
	}); err != nil {
		t.Fatal(err)
	}
	if n := countOutbox(t, db); n != 3 {
		t.Fatalf("rows = %d, want 3", n)
	}
	boom := errors.New("boom")
	err := db.Transact(ctx, nil, func(tx *sql.Tx) error {
		if err := postgres.EnqueueTx(ctx, tx, msg("Encounter/a", 3)); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Transact = %v", err)
	}
	if n := countOutbox(t, db); n != 3 {
		t.Fatalf("rows after rollback = %d, want 3", n)
	}
	// The rolled-back seq is reused: no gaps.
	if err := postgres.NewOutboxStore(db).Enqueue(ctx, msg("Encounter/a", 3)); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(`SELECT seq FROM outbox WHERE key = 'Encounter/a' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	want := int64(1)
	for rows.Next() {
		var seq int64
		_ = rows.Scan(&seq)
		if seq != want {
			t.Errorf("seq = %d, want %d", seq, want)
		}
		want++
	}
}

func TestConcurrentWritersGetGapFreeSeqs(t *testing.T) {
	db := pgtest.New(t)
	store := postgres.NewOutboxStore(db)
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 20 {
				if err := store.Enqueue(ctx, msg("Encounter/hot", w*100+i)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	var n, maxSeq, distinct int
	if err := db.QueryRow(`SELECT count(*), max(seq), count(DISTINCT seq) FROM outbox`).Scan(&n, &maxSeq, &distinct); err != nil {
		t.Fatal(err)
	}
	if n != 160 || maxSeq != 160 || distinct != 160 {
		t.Errorf("count=%d max=%d distinct=%d, want 160 each", n, maxSeq, distinct)
	}
}

func TestClaimTakesOnlyTheLowestPendingSeqPerKey(t *testing.T) {
	db := pgtest.New(t)
	store := postgres.NewOutboxStore(db)
	ctx := context.Background()
	for i := 1; i <= 3; i++ {
		if err := store.Enqueue(ctx, msg("Encounter/a", i), msg("Encounter/b", i)); err != nil {
			t.Fatal(err)
		}
	}
	recs := claim(t, store, 100, time.Minute)
	if len(recs) != 2 || recs[0].Seq != 1 || recs[1].Seq != 1 || recs[0].Key == recs[1].Key {
		t.Fatalf("first claim = %+v, want seq 1 of each key", recs)
	}
	// While seq 1 is leased, nothing else of either key is claimable.
	if again := claim(t, store, 100, time.Minute); len(again) != 0 {
		t.Fatalf("claimed %d more while seq 1 in flight", len(again))
	}
	if _, err := store.MarkSent(ctx, recs[0].ID); err != nil {
		t.Fatal(err)
	}
	next := claim(t, store, 100, time.Minute)
	if len(next) != 1 || next[0].Key != recs[0].Key || next[0].Seq != 2 {
		t.Fatalf("after MarkSent claim = %+v, want seq 2 of %s", next, recs[0].Key)
	}
	if string(next[0].Value) != recs[0].Key+"#2" || next[0].Headers["h"] != "v" || next[0].Topic != "t" {
		t.Errorf("record = %+v", next[0])
	}
}

func claim(t *testing.T, s *postgres.OutboxStore, n int, lease time.Duration) []workitem.OutboxRecord {
	t.Helper()
	recs, err := s.Claim(context.Background(), n, lease)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestClaimLeaseExpires(t *testing.T) {
	db := pgtest.New(t)
	store := postgres.NewOutboxStore(db)
	if err := store.Enqueue(context.Background(), msg("Encounter/a", 1)); err != nil {
		t.Fatal(err)
	}
	first := claim(t, store, 10, 50*time.Millisecond)
	time.Sleep(80 * time.Millisecond)
	again := claim(t, store, 10, time.Minute)
	if len(first) != 1 || len(again) != 1 || again[0].ID != first[0].ID || again[0].Attempts != 2 {
		t.Fatalf("first=%+v again=%+v", first, again)
	}
}

func TestFailBackoffDeadLetterAndReplay(t *testing.T) {
	db := pgtest.New(t)
	store := postgres.NewOutboxStore(db)
	ctx := context.Background()
	if err := store.Enqueue(ctx, msg("Encounter/a", 1), msg("Encounter/a", 2)); err != nil {
		t.Fatal(err)
	}
	// A backoff long enough that a busy CI machine cannot outlast it between
	// two statements; the test then ends it by moving next_attempt_at.
	p := workitem.RetryPolicy{MaxAttempts: 2, Base: 10 * time.Second, Cap: time.Minute}
	r := claim(t, store, 10, time.Minute)[0]
	if dead, err := store.MarkFailed(ctx, []int64{r.ID}, "kafka: broker down", p); err != nil || dead != 0 {
		t.Fatalf("MarkFailed = %d, %v", dead, err)
	}
	if got := claim(t, store, 10, time.Minute); len(got) != 0 {
		t.Fatalf("claimed during backoff: %+v", got) // seq 2 stays behind seq 1 too
	}
	if _, err := db.Exec(`UPDATE outbox SET next_attempt_at = now() WHERE id = $1`, r.ID); err != nil {
		t.Fatal(err)
	}
	r = claim(t, store, 10, time.Minute)[0]
	if dead, err := store.MarkFailed(ctx, []int64{r.ID}, "kafka: broker down", p); err != nil || dead != 1 {
		t.Fatalf("second MarkFailed = %d, %v; want 1 dead", dead, err)
	}
	// The dead record no longer blocks its key.
	next := claim(t, store, 10, time.Minute)
	if len(next) != 1 || next[0].Seq != 2 {
		t.Fatalf("after dead letter claim = %+v, want seq 2", next)
	}
	if _, err := store.MarkSent(ctx, next[0].ID); err != nil {
		t.Fatal(err)
	}
	deadRecs, err := store.ListDead(ctx, 0, 10)
	if err != nil || len(deadRecs) != 1 || deadRecs[0].LastError != "kafka: broker down" || deadRecs[0].State != workitem.OutboxDead {
		t.Fatalf("ListDead = %+v, %v", deadRecs, err)
	}
	st, err := store.Stats(ctx)
	if err != nil || st.Dead != 1 || st.Pending != 0 {
		t.Fatalf("Stats = %+v, %v", st, err)
	}
	if err := store.Replay(ctx, deadRecs[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := store.Replay(ctx, deadRecs[0].ID); workitem.KindOf(err) != workitem.NotFound {
		t.Fatalf("second Replay = %v, want NotFound", err)
	}
	replayed := claim(t, store, 10, time.Minute)
	if len(replayed) != 1 || replayed[0].ID != deadRecs[0].ID || replayed[0].Seq != 3 || replayed[0].Attempts != 1 {
		t.Fatalf("replayed claim = %+v, want id %d at seq 3", replayed, deadRecs[0].ID)
	}
}

func TestMarkDeadReplayAllReleaseStatsAndRetention(t *testing.T) {
	db := pgtest.New(t)
	store := postgres.NewOutboxStore(db)
	ctx := context.Background()
	if err := store.Enqueue(ctx, msg("Encounter/a", 1), msg("Encounter/b", 1), msg("Encounter/c", 1)); err != nil {
		t.Fatal(err)
	}
	recs := claim(t, store, 10, time.Minute)
	if err := store.MarkDead(ctx, []int64{recs[0].ID, recs[1].ID}, "too large"); err != nil {
		t.Fatal(err)
	}
	if err := store.Release(ctx, recs[2].ID); err != nil {
		t.Fatal(err)
	}
	st, err := store.Stats(ctx)
	if err != nil || st.Pending != 1 || st.Dead != 2 || st.OldestPending <= 0 {
		t.Fatalf("Stats = %+v, %v", st, err)
	}
	if n, err := store.ReplayAll(ctx); err != nil || n != 2 {
		t.Fatalf("ReplayAll = %d, %v", n, err)
	}
	recs = claim(t, store, 10, time.Minute)
	if len(recs) != 3 {
		t.Fatalf("claimed %d after ReplayAll and Release, want 3", len(recs))
	}
	if _, err := store.MarkSent(ctx, recs[0].ID, recs[1].ID, recs[2].ID); err != nil {
		t.Fatal(err)
	}
	if n, err := store.DeleteSent(ctx, time.Now().Add(-time.Hour), 100); err != nil || n != 0 {
		t.Fatalf("DeleteSent(1h ago) = %d, %v", n, err)
	}
	if n, err := store.DeleteSent(ctx, time.Now().Add(time.Second), 100); err != nil || n != 3 {
		t.Fatalf("DeleteSent(now) = %d, %v", n, err)
	}
}

// TestTwoClaimersNeverShareAKey races two claimers over many keys: no key
// may ever have two records leased at once.
func TestTwoClaimersNeverShareAKey(t *testing.T) {
	db := pgtest.New(t)
	store := postgres.NewOutboxStore(db)
	ctx := context.Background()
	for i := range 20 {
		for k := range 10 {
			if err := store.Enqueue(ctx, msg(fmt.Sprintf("Encounter/%d", k), i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	var mu sync.Mutex
	inFlight := map[string]int64{}
	next := map[string]int64{}
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for {
				recs, err := store.Claim(ctx, 7, time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				st, _ := store.Stats(ctx)
				if len(recs) == 0 && st.Pending == 0 {
					return
				}
				for _, r := range recs {
					mu.Lock()
					if s, busy := inFlight[r.Key]; busy {
						t.Errorf("key %s: seq %d claimed while seq %d in flight", r.Key, r.Seq, s)
					}
					if r.Seq != next[r.Key]+1 {
						t.Errorf("key %s: claimed seq %d after %d", r.Key, r.Seq, next[r.Key])
					}
					inFlight[r.Key], next[r.Key] = r.Seq, r.Seq
					mu.Unlock()
				}
				for _, r := range recs {
					mu.Lock()
					delete(inFlight, r.Key)
					mu.Unlock()
					if _, err := store.MarkSent(ctx, r.ID); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	wg.Wait()
	for k := range 10 {
		if got := next[fmt.Sprintf("Encounter/%d", k)]; got != 20 {
			t.Errorf("key %d reached seq %d, want 20", k, got)
		}
	}
}
