package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
	"github.com/codebridge/codebridge/mapping/workitem"
)

func TestUISessions(t *testing.T) {
	s := postgres.NewStore(pgtest.New(t), postgres.StoreOptions{})
	ctx := context.Background()
	t0 := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	idle := 15 * time.Minute
	a, b := []byte("hash-a"), []byte("hash-b")
	for _, h := range [][]byte{a, b} {
		if err := s.CreateUISession(ctx, h, postgres.UISession{Principal: "alice", Role: "coder", CSRF: "tok", Created: t0, LastSeen: t0}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.TouchUISession(ctx, a, t0.Add(10*time.Minute), idle)
	want := postgres.UISession{Principal: "alice", Role: "coder", CSRF: "tok", Created: t0, LastSeen: t0.Add(10 * time.Minute)}
	if err != nil || !cmp.Equal(want, got) {
		t.Fatalf("touch within the timeout = %+v, %v; want %+v", got, err, want)
	}
	if d, err := s.UISessionIdle(ctx, a, t0.Add(12*time.Minute)); err != nil || d != 2*time.Minute {
		t.Errorf("idle = %s, %v; want 2m (status checks do not touch)", d, err)
	}
	// 10 minutes after its last activity a is alive; b, idle for 25, is not.
	tests := []struct {
		name string
		hash []byte
		at   time.Time
		want workitem.Kind
	}{
		{"active", a, t0.Add(20 * time.Minute), -1},
		{"idle too long", b, t0.Add(25 * time.Minute), workitem.Unauthorized},
		{"ended by the idle timeout", b, t0.Add(26 * time.Minute), workitem.NotFound},
		{"unknown", []byte("nope"), t0, workitem.NotFound},
	}
	for _, tt := range tests {
		_, err := s.TouchUISession(ctx, tt.hash, tt.at, idle)
		if (tt.want < 0) != (err == nil) || (err != nil && workitem.KindOf(err) != tt.want) {
			t.Errorf("%s: touch = %v, want kind %v", tt.name, err, tt.want)
		}
	}
	if err := s.SetUILastChart(ctx, a, "wi-1"); err != nil {
		t.Fatal(err)
	}
	if err := s.EndUISession(ctx, a, t0.Add(21*time.Minute), "logout"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TouchUISession(ctx, a, t0.Add(22*time.Minute), idle); workitem.KindOf(err) != workitem.NotFound {
		t.Errorf("touch after sign-out = %v, want NotFound", err)
	}
	// A new session has no chart yet: the last one opened is still found.
	if err := s.CreateUISession(ctx, []byte("hash-c"), postgres.UISession{Principal: "alice", Role: "coder", CSRF: "t2", Created: t0.Add(time.Hour), LastSeen: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if id, err := s.UILastChart(ctx, "alice"); err != nil || id != "wi-1" {
		t.Errorf("last chart = %q, %v; want wi-1", id, err)
	}
	if id, err := s.UILastChart(ctx, "bob"); err != nil || id != "" {
		t.Errorf("last chart of a user without sessions = %q, %v", id, err)
	}
	if n, err := s.PruneUISessions(ctx, t0.Add(time.Hour)); err != nil || n != 2 {
		t.Errorf("prune = %d, %v; want the 2 ended sessions", n, err)
	}
}

func TestUIDraftsAndPrefs(t *testing.T) {
	s := postgres.NewStore(pgtest.New(t), postgres.StoreOptions{})
	ctx := context.Background()
	seedItems(t, s, item{id: "wi-1", priority: 100, status: "in_progress"})
	now := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
	if d, err := s.UIDraft(ctx, "alice", "wi-1"); d != nil || err != nil {
		t.Fatalf("draft before any = %s, %v", d, err)
	}
	for _, d := range []string{`{"version": 1}`, `{"version": 2}`} {
		if err := s.SaveUIDraft(ctx, "alice", "wi-1", []byte(d), now); err != nil {
			t.Fatal(err)
		}
	}
	if d, err := s.UIDraft(ctx, "alice", "wi-1"); err != nil || string(d) != `{"version": 2}` {
		t.Errorf("draft = %s, %v; want the second", d, err)
	}
	if d, _ := s.UIDraft(ctx, "bob", "wi-1"); d != nil {
		t.Errorf("bob sees alice's draft: %s", d)
	}
	if err := s.DeleteUIDraft(ctx, "alice", "wi-1"); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.UIDraft(ctx, "alice", "wi-1"); d != nil {
		t.Errorf("draft after delete = %s", d)
	}
	if err := s.SaveUIPrefs(ctx, "alice", []byte(`{"shortcuts": false}`), now); err != nil {
		t.Fatal(err)
	}
	if p, err := s.UIPrefs(ctx, "alice"); err != nil || string(p) != `{"shortcuts": false}` {
		t.Errorf("prefs = %s, %v", p, err)
	}
}

type item struct {
	id, status, class, assignee, name, payer string
	priority                                 int
	end                                      time.Time
	coverage                                 string // chart coverage JSON
}

// seedItems inserts work items straight into the table.
func seedItems(t *testing.T, s *postgres.Store, items ...item) {
	t.Helper()
	for i, it := range items {
		if it.class == "" {
			it.class = "AMB"
		}
		if it.end.IsZero() {
			it.end = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i)
		}
		if it.coverage == "" {
			it.coverage = "null"
		}
		chart := `{"chart":{"patientSummary":{"reference":"Patient/p","name":"` + it.name + `"},"coverage":` + it.coverage + `},"sources":{}}`
		_, err := s.DB().Exec(`INSERT INTO work_items (id, encounter_id, class, status, priority, assignee, service_start, service_end, chart, created_at)
			VALUES ($1, 'enc-' || $1, $2, $3, $4, $5, $6, $6, $7, $8)`, it.id, it.class, it.status, it.priority, it.assignee, it.end, chart,
			time.Date(2026, 1, 1, 0, 0, i, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestWorklist(t *testing.T) {
	s := postgres.NewStore(pgtest.New(t), postgres.StoreOptions{})
	ctx := context.Background()
	day := func(d int) time.Time { return time.Date(2026, 3, d, 12, 0, 0, 0, time.UTC) }
	seedItems(t, s,
		item{id: "a", status: "ready", priority: 300, name: "Ann Alpha", end: day(5),
			coverage: `[{"payor":"Second Plan","order":2,"status":"active"},{"payor":"First Plan","order":1,"status":"active"}]`},
		item{id: "b", status: "ready", priority: 300, class: "IMP", end: day(3), coverage: `[{"status":"active","order":1}]`},
		item{id: "c", status: "in_progress", priority: 200, assignee: "alice", end: day(9), coverage: `[{"payor":"Old Plan","status":"cancelled"}]`},
		item{id: "d", status: "completed", priority: 500, end: day(7)},
		item{id: "e", status: "ready", priority: 100, end: day(1)},
	)
	ids := func(rows []postgres.WorklistRow) []string {
		var out []string
		for _, r := range rows {
			out = append(out, r.ID)
		}
		return out
	}
	ready := []workitem.Status{workitem.Ready}
	tests := []struct {
		name string
		f    postgres.WorklistFilter
		want []string
	}{
		{"everything by priority, ties oldest first", postgres.WorklistFilter{}, []string{"d", "a", "b", "c", "e"}},
		{"ready", postgres.WorklistFilter{Status: ready}, []string{"a", "b", "e"}},
		{"class", postgres.WorklistFilter{Class: "IMP"}, []string{"b"}},
		{"assignee", postgres.WorklistFilter{Assignee: "alice"}, []string{"c"}},
		{"unassigned, not ready", postgres.WorklistFilter{Unassigned: true, Status: []workitem.Status{workitem.Completed}}, []string{"d"}},
		{"service dates", postgres.WorklistFilter{From: day(3), To: day(7)}, []string{"d", "a", "b"}},
		{"longest since discharge", postgres.WorklistFilter{Sort: postgres.SortDischarge}, []string{"e", "b", "a", "d", "c"}},
		{"latest discharge", postgres.WorklistFilter{Sort: postgres.SortDischargeDesc}, []string{"c", "d", "a", "b", "e"}},
	}
	for _, tt := range tests {
		rows, _, err := s.Worklist(ctx, tt.f)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if diff := cmp.Diff(tt.want, ids(rows)); diff != "" {
			t.Errorf("%s: mismatch (-want +got):\n%s", tt.name, diff)
		}
		// Paging two at a time walks the same order.
		f, paged := tt.f, []string{}
		f.Limit = 2
		for {
			page, next, err := s.Worklist(ctx, f)
			if err != nil {
				t.Fatalf("%s paged: %v", tt.name, err)
			}
			paged = append(paged, ids(page)...)
			if next == "" {
				break
			}
			f.Cursor = next
		}
		if diff := cmp.Diff(tt.want, paged); diff != "" {
			t.Errorf("%s, two per page: mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
	rows, _, err := s.Worklist(ctx, postgres.WorklistFilter{Status: ready, Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	got := []struct{ Name, Payer string }{{rows[0].PatientName, rows[0].Payer}, {rows[1].PatientName, rows[1].Payer}}
	want := []struct{ Name, Payer string }{{"Ann Alpha", "First Plan"}, {"", postgres.UnnamedPayer}}
	if diff := cmp.Diff(want, got); diff != "" || !rows[0].Discharge.Equal(day(5)) {
		t.Errorf("names and payers: mismatch (-want +got):\n%s (discharge %s)", diff, rows[0].Discharge)
	}
	_, next, _ := s.Worklist(ctx, postgres.WorklistFilter{Limit: 1})
	for _, f := range []postgres.WorklistFilter{{Cursor: "not-a-cursor"}, {Cursor: next, Sort: postgres.SortDischarge}} {
		if _, _, err := s.Worklist(ctx, f); workitem.KindOf(err) != workitem.Invalid {
			t.Errorf("cursor %q with sort %q = %v, want Invalid", f.Cursor, f.Sort, err)
		}
	}
}

func TestCoderCodes(t *testing.T) {
	s := postgres.NewStore(pgtest.New(t), postgres.StoreOptions{})
	ctx := context.Background()
	seedItems(t, s, item{id: "wi-1", status: "in_review", priority: 100})
	if _, _, ok, err := s.CoderCodes(ctx, "wi-1"); ok || err != nil {
		t.Errorf("coder codes before any were kept: ok=%v err=%v", ok, err)
	}
	if _, err := s.DB().Exec(`UPDATE work_items SET coded_by = 'alice', coder_codes = '{"diagnoses":[{"code":"J20.9"}],"lines":[]}' WHERE id = 'wi-1'`); err != nil {
		t.Fatal(err)
	}
	as, coder, ok, err := s.CoderCodes(ctx, "wi-1")
	want := workitem.Assignment{Diagnoses: []workitem.AssignedDiagnosis{{Code: "J20.9"}}, Lines: []workitem.AssignedLine{}}
	if err != nil || !ok || coder != "alice" || !cmp.Equal(want, as) {
		t.Errorf("coder codes = %+v by %q (ok=%v, %v)", as, coder, ok, err)
	}
	if _, _, _, err := s.CoderCodes(ctx, "nope"); workitem.KindOf(err) != workitem.NotFound {
		t.Errorf("unknown item = %v, want NotFound", err)
	}
}
