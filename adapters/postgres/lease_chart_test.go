package postgres_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// TestLeaseNextChart: the lease and the read of the leased item's chart,
// codes and history come back from one call, as GetItem would read them
// afterwards, and the per-coder cap holds.
func TestLeaseNextChart(t *testing.T) {
	s := postgres.NewStore(pgtest.New(t), postgres.StoreOptions{})
	ctx := context.Background()
	seedItems(t, s,
		item{id: "wi-hi", status: "ready", priority: 300, name: "Ada Example"},
		item{id: "wi-mid", status: "reopened", priority: 200, name: "Bo Example"},
		item{id: "wi-lo", status: "ready", priority: 100, name: "Cy Example"},
	)
	const assigned = `{"diagnoses":[{"code":"J20.9","poa":"Y"}],"lines":[{"code":"99213","units":1,"diagnoses":[1]}]}`
	if _, err := s.DB().ExecContext(ctx, `UPDATE work_items SET codes = $1::jsonb WHERE id = 'wi-hi'`, assigned); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().ExecContext(ctx, `INSERT INTO work_item_history (work_item_id, actor, from_status, to_status, reason)
		VALUES ('wi-hi', 'system', 'new', 'ready', 'charted')`); err != nil {
		t.Fatal(err)
	}

	before := time.Now()
	it, history, ok, err := s.LeaseNextChart(ctx, "alice", 2, 10*time.Minute)
	if err != nil || !ok {
		t.Fatalf("LeaseNextChart = ok %v, %v; want the highest-priority item", ok, err)
	}
	if it.ID != "wi-hi" || it.Status != workitem.InProgress || it.Assignee != "alice" {
		t.Fatalf("leased %s (%s, assignee %q), want wi-hi in_progress for alice", it.ID, it.Status, it.Assignee)
	}
	if it.LeaseExpires == nil || it.LeaseExpires.Before(before.Add(9*time.Minute)) || it.LeaseExpires.After(time.Now().Add(11*time.Minute)) {
		t.Errorf("lease expires %v, want about 10 minutes from now", it.LeaseExpires)
	}
	if it.Chart == nil || it.Chart.PatientSummary == nil || it.Chart.PatientSummary.Name != "Ada Example" {
		t.Fatalf("chart = %+v, want Ada Example's chart", it.Chart)
	}
	wantCodes := &workitem.Assignment{
		Diagnoses: []workitem.AssignedDiagnosis{{Code: "J20.9", POA: "Y"}},
		Lines:     []workitem.AssignedLine{{Code: "99213", Units: 1, Diagnoses: []int{1}}},
	}
	if diff := cmp.Diff(wantCodes, it.Codes); diff != "" {
		t.Errorf("codes (-want +got):\n%s", diff)
	}
	if len(history) != 2 {
		t.Fatalf("history = %+v, want the seeded entry and the lease", history)
	}
	last := history[len(history)-1]
	if last.From != workitem.Ready || last.To != workitem.InProgress || last.Actor != "alice" || last.Reason != "leased" {
		t.Errorf("last transition = %+v, want ready -> in_progress by alice (leased)", last)
	}
	// The answer is what a separate read sees after the commit.
	got, gotHistory, err := s.GetItem(ctx, "wi-hi")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, it); diff != "" {
		t.Errorf("leased item differs from GetItem (-GetItem +LeaseNextChart):\n%s", diff)
	}
	if diff := cmp.Diff(gotHistory, history); diff != "" {
		t.Errorf("history differs from GetItem (-GetItem +LeaseNextChart):\n%s", diff)
	}

	// Second lease: the re-opened item, from reopened, with the physician
	// query answered before it was re-opened in its chart.
	if _, err := s.DB().ExecContext(ctx, `INSERT INTO work_item_queries (id, work_item_id, question, status, asked_by, answer, answered_by, answered_at)
		VALUES ('q-1', 'wi-mid', 'Acute or chronic?', 'answered', 'alice', 'Acute', 'dr-who', now())`); err != nil {
		t.Fatal(err)
	}
	it, history, ok, err = s.LeaseNextChart(ctx, "alice", 2, 10*time.Minute)
	if err != nil || !ok || it.ID != "wi-mid" {
		t.Fatalf("second lease = %s, ok %v, %v; want wi-mid", it.ID, ok, err)
	}
	if len(it.Queries) != 1 || it.Queries[0].ID != "q-1" || it.Queries[0].Answer != "Acute" {
		t.Errorf("queries of the leased item = %+v, want the answered q-1", it.Queries)
	}
	if got, gotHistory, err := s.GetItem(ctx, "wi-mid"); err != nil || !cmp.Equal(got, it) || !cmp.Equal(gotHistory, history) {
		t.Errorf("second leased item differs from GetItem (-GetItem +LeaseNextChart):\n%s%s", cmp.Diff(got, it), cmp.Diff(gotHistory, history))
	}
	if last := history[len(history)-1]; last.From != workitem.Reopened || last.To != workitem.InProgress || last.Actor != "alice" {
		t.Errorf("second lease transition = %+v", last)
	}

	// At the cap: nothing leased, the remaining item stays ready.
	it, history, ok, err = s.LeaseNextChart(ctx, "alice", 2, 10*time.Minute)
	if err != nil || ok {
		t.Fatalf("lease at the cap = %s, ok %v, %v; want ok=false", it.ID, ok, err)
	}
	if history != nil {
		t.Errorf("history at the cap = %+v, want none", history)
	}
	if lo, _, err := s.GetItem(ctx, "wi-lo"); err != nil || lo.Status != workitem.Ready || lo.Assignee != "" {
		t.Errorf("wi-lo after the refused lease = %s %q, %v; want ready and unassigned", lo.Status, lo.Assignee, err)
	}

	// Another coder takes the last one; then the queue is empty.
	if it, _, ok, err = s.LeaseNextChart(ctx, "bob", 2, 10*time.Minute); err != nil || !ok || it.ID != "wi-lo" {
		t.Fatalf("bob's lease = %s, ok %v, %v; want wi-lo", it.ID, ok, err)
	}
	if it, _, ok, err = s.LeaseNextChart(ctx, "bob", 2, 10*time.Minute); err != nil || ok {
		t.Fatalf("lease of an empty queue = %s, ok %v, %v; want ok=false", it.ID, ok, err)
	}

	// An expired lease is taken over, and the history says whose it was.
	if _, err := s.DB().ExecContext(ctx, `UPDATE work_items SET lease_expires = now() - interval '1 minute' WHERE id = 'wi-lo'`); err != nil {
		t.Fatal(err)
	}
	it, history, ok, err = s.LeaseNextChart(ctx, "carol", 2, 10*time.Minute)
	if err != nil || !ok || it.ID != "wi-lo" || it.Assignee != "carol" {
		t.Fatalf("lease of an expired item = %s (%q), ok %v, %v; want wi-lo for carol", it.ID, it.Assignee, ok, err)
	}
	last = history[len(history)-1]
	if last.From != workitem.InProgress || last.To != workitem.InProgress || last.Actor != "carol" || last.Reason != "lease of bob expired; leased" {
		t.Errorf("takeover transition = %+v", last)
	}
	if it.Chart == nil || it.Chart.PatientSummary == nil || it.Chart.PatientSummary.Name != "Cy Example" {
		t.Errorf("takeover chart = %+v, want Cy Example's chart", it.Chart)
	}
}

// TestLeaseCapUnderConcurrency: one coder's parallel `next` calls (two
// tabs, a retrying client) never lease more than the cap, and no item is
// leased twice.
func TestLeaseCapUnderConcurrency(t *testing.T) {
	s := postgres.NewStore(pgtest.New(t), postgres.StoreOptions{StatusTopic: "status"})
	ctx := context.Background()
	var items []item
	for i := range 10 {
		items = append(items, item{id: fmt.Sprintf("wi-%02d", i), status: "ready", priority: 100 + i, name: "Par Example"})
	}
	seedItems(t, s, items...)
	const calls, max = 12, 3
	var wg sync.WaitGroup
	var mu sync.Mutex
	var leased []string
	for range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			it, _, ok, err := s.LeaseNextChart(ctx, "alice", max, 10*time.Minute)
			if err != nil {
				t.Error(err)
				return
			}
			if ok {
				mu.Lock()
				leased = append(leased, it.ID)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	sort.Strings(leased)
	if len(leased) != max || len(slices.Compact(slices.Clone(leased))) != max {
		t.Fatalf("%d parallel calls leased %v; want %d distinct items", calls, leased, max)
	}
	// Each lease announced once, in sequence for its encounter.
	var events, gaps int
	if err := s.DB().QueryRow(`SELECT count(*), count(*) FILTER (WHERE seq <> 1) FROM outbox`).Scan(&events, &gaps); err != nil {
		t.Fatal(err)
	}
	if events != max || gaps != 0 {
		t.Errorf("status events %d (%d not first of their key); want %d, each the first of its encounter", events, gaps, max)
	}
}
