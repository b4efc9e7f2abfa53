package postgres_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// seedAuditSubjects stores a work item, a Claim and resources the audit
// log resolves patients and encounters from.
func seedAuditSubjects(t *testing.T, db *postgres.DB) {
	t.Helper()
	for _, q := range []string{
		`INSERT INTO work_items (id, encounter_id, patient_id, status) VALUES ('w-1', 'e-1', 'p-1', 'ready')`,
		`INSERT INTO claims (id, work_item_id, encounter_id, patient_id, status, version, last_updated, identifier)
			VALUES ('c-1', 'w-1', 'e-1', 'p-1', 'active', 1, now(), 'w-1-v1')`,
		`INSERT INTO resources (type, id, version, last_updated, content_hash, encounter_id, patient_id)
			VALUES ('Condition', 'cond-1', 1, now(), '\x00', 'e-2', 'p-2'),
			       ('Encounter', 'e-3', 1, now(), '\x00', 'e-3', 'p-3')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAuditAppendResolvesPatientAndEncounter(t *testing.T) {
	db := pgtest.New(t)
	seedAuditSubjects(t, db)
	store := postgres.NewAuditStore(db)
	at := time.Date(2026, 3, 1, 12, 0, 0, 123456000, time.UTC)
	in := []postgres.AuditRecord{
		{Route: "/api/v1/work-items/:id", WorkItem: "w-1"},
		{Route: "/fhir/Claim/:id", Target: "Claim/c-1"},
		{Route: "/fhir/Provenance/:id", Target: "Provenance/prov-c-1"},
		{Route: "/fhir/:type/:id", Target: "Condition/cond-1"},
		{Route: "/fhir/:type/:id", Target: "Encounter/e-3"},
		{Route: "/fhir/Claim", Target: "Claim", Encounter: "Encounter/e-3", Params: []string{"encounter"}},
		{Route: "/fhir/Claim", Target: "Claim", Patient: "Patient/p-9", Params: []string{"_count", "patient"}},
		{Route: "/fhir/:type/:id", Target: "Condition/unknown"},
		{Route: "/api/v1/work-items", Principal: "nul\x00byte", Params: []string{"a,b", "status"}},
	}
	for i := range in {
		in[i].At, in[i].Method, in[i].Status, in[i].RequestID = at, "GET", 200, "req-1"
		if in[i].Principal == "" {
			in[i].Principal, in[i].Role = "alice", "coder"
		}
	}
	if err := store.Append(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	got, next, err := store.Query(t.Context(), postgres.AuditFilter{Limit: 100})
	if err != nil || next != "" {
		t.Fatalf("Query: %v (next %q)", err, next)
	}
	type subject struct{ Target, WorkItem, Encounter, Patient, Principal string }
	want := []subject{ // newest first: same time, so by id descending
		{"", "", "", "", "nulbyte"},
		{"Condition/unknown", "", "", "", "alice"},
		{"Claim", "", "", "Patient/p-9", "alice"},
		{"Claim", "", "Encounter/e-3", "Patient/p-3", "alice"},
		{"Encounter/e-3", "", "Encounter/e-3", "Patient/p-3", "alice"},
		{"Condition/cond-1", "", "Encounter/e-2", "Patient/p-2", "alice"},
		{"Provenance/prov-c-1", "", "Encounter/e-1", "Patient/p-1", "alice"},
		{"Claim/c-1", "", "Encounter/e-1", "Patient/p-1", "alice"},
		{"", "w-1", "Encounter/e-1", "Patient/p-1", "alice"},
	}
	var subjects []subject
	for _, r := range got {
		subjects = append(subjects, subject{r.Target, r.WorkItem, r.Encounter, r.Patient, r.Principal})
		if !r.At.Equal(at) || r.Status != 200 || r.RequestID != "req-1" || r.Method != "GET" {
			t.Errorf("row %d: at %v status %d request %q method %q", r.ID, r.At, r.Status, r.RequestID, r.Method)
		}
	}
	if diff := cmp.Diff(want, subjects); diff != "" {
		t.Errorf("resolved subjects mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"ab", "status"}, got[0].Params); diff != "" {
		t.Errorf("params mismatch (-want +got):\n%s", diff)
	}
}

// appendAt appends one read per (principal, patient) at base+i minutes.
func appendAt(t *testing.T, store *postgres.AuditStore, base time.Time, rows [][2]string) {
	t.Helper()
	var recs []postgres.AuditRecord
	for i, r := range rows {
		recs = append(recs, postgres.AuditRecord{At: base.Add(time.Duration(i) * time.Minute), Principal: r[0], Role: "coder",
			Method: "GET", Route: "/fhir/:type/:id", Target: "Patient/" + r[1][len("Patient/"):], Patient: r[1], Status: 200})
	}
	if err := store.Append(t.Context(), recs); err != nil {
		t.Fatal(err)
	}
}

func TestAuditQueryFiltersAndPages(t *testing.T) {
	db := pgtest.New(t)
	store := postgres.NewAuditStore(db)
	base := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	appendAt(t, store, base, [][2]string{
		{"alice", "Patient/p-1"}, {"bob", "Patient/p-1"}, {"alice", "Patient/p-2"},
		{"alice", "Patient/p-1"}, {"bob", "Patient/p-2"}, {"alice", "Patient/p-1"},
	})
	minute := func(i int) time.Time { return base.Add(time.Duration(i) * time.Minute) }
	tests := []struct {
		name string
		f    postgres.AuditFilter
		want []int // minutes of the rows, in order
	}{
		{"all, newest first", postgres.AuditFilter{}, []int{5, 4, 3, 2, 1, 0}},
		{"principal", postgres.AuditFilter{Principal: "alice"}, []int{5, 3, 2, 0}},
		{"patient", postgres.AuditFilter{Patient: "Patient/p-2"}, []int{4, 2}},
		{"resource", postgres.AuditFilter{Target: "Patient/p-1"}, []int{5, 3, 1, 0}},
		{"principal and patient", postgres.AuditFilter{Principal: "alice", Patient: "Patient/p-1"}, []int{5, 3, 0}},
		{"from inclusive, to exclusive", postgres.AuditFilter{From: minute(1), To: minute(4)}, []int{3, 2, 1}},
		{"patient in a window", postgres.AuditFilter{Patient: "Patient/p-1", From: minute(1), To: minute(5)}, []int{3, 1}},
		{"nobody", postgres.AuditFilter{Principal: "mallory"}, nil},
	}
	for _, tt := range tests {
		recs, next, err := store.Query(t.Context(), tt.f)
		if err != nil || next != "" {
			t.Fatalf("%s: %v (next %q)", tt.name, err, next)
		}
		var got []int
		for _, r := range recs {
			got = append(got, int(r.At.Sub(base)/time.Minute))
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: rows mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
	// Keyset pages of 2 walk the principal's rows exactly once.
	var pages [][]int
	f := postgres.AuditFilter{Principal: "alice", Limit: 2}
	for {
		recs, next, err := store.Query(t.Context(), f)
		if err != nil {
			t.Fatal(err)
		}
		var page []int
		for _, r := range recs {
			page = append(page, int(r.At.Sub(base)/time.Minute))
		}
		pages = append(pages, page)
		if next == "" {
			break
		}
		f.Cursor = next
	}
	if diff := cmp.Diff([][]int{{5, 3}, {2, 0}}, pages); diff != "" {
		t.Errorf("pages mismatch (-want +got):\n%s", diff)
	}
	_, _, err := store.Query(t.Context(), postgres.AuditFilter{Cursor: "not-a-cursor"})
	var we *workitem.Error
	if !errors.As(err, &we) || we.Kind != workitem.Invalid {
		t.Errorf("bad cursor: %v, want Invalid", err)
	}
}

func TestAuditLogIsAppendOnly(t *testing.T) {
	db := pgtest.New(t)
	store := postgres.NewAuditStore(db)
	appendAt(t, store, time.Now(), [][2]string{{"alice", "Patient/p-1"}})
	for _, q := range []string{`UPDATE audit_log SET principal = 'mallory'`, `DELETE FROM audit_log`, `TRUNCATE audit_log`} {
		if _, err := db.Exec(q); err == nil {
			t.Errorf("%s succeeded on the append-only audit log", q)
		}
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM audit_log WHERE principal = 'alice'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("audit rows = %d, %v; want the one row untouched", n, err)
	}
}

func TestAuditWriterFlushesAndClose(t *testing.T) {
	db := pgtest.New(t)
	store := postgres.NewAuditStore(db)
	w := postgres.NewAuditWriter(store, postgres.AuditWriterOptions{MaxBatch: 2})
	rec := func(id string) postgres.AuditRecord {
		return postgres.AuditRecord{At: time.Now(), Principal: "alice", Role: "coder", Method: "GET", Route: "/fhir/:type/:id",
			Target: "Condition/" + id, Status: 200}
	}
	w.Record(rec("a"))
	if err := w.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM audit_log`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(); n != 1 {
		t.Fatalf("after Flush: %d rows, want 1", n)
	}
	for _, id := range []string{"b", "c", "d", "e", "f"} {
		w.Record(rec(id))
	}
	if err := w.Close(t.Context()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if n := count(); n != 6 {
		t.Fatalf("after Close: %d rows, want 6", n)
	}
	w.Record(rec("late"))
	want := postgres.AuditStats{Written: 6, Dropped: 1}
	if diff := cmp.Diff(want, w.Stats()); diff != "" {
		t.Errorf("stats mismatch (-want +got):\n%s", diff)
	}
	if n := count(); n != 6 {
		t.Errorf("a record after Close was written: %d rows", n)
	}
}

func TestAuditWriterCountsWhatItCannotWrite(t *testing.T) {
	// A database that is never reachable: every insert fails.
	sqlDB, err := sql.Open("postgres", "host=127.0.0.1 port=1 user=x dbname=x sslmode=disable connect_timeout=1")
	if err != nil {
		t.Fatal(err)
	}
	defer sqlDB.Close()
	w := postgres.NewAuditWriter(postgres.NewAuditStore(&postgres.DB{DB: sqlDB}),
		postgres.AuditWriterOptions{Buffer: 1, MaxBatch: 1, FullWait: 20 * time.Millisecond})
	for range 4 {
		w.Record(postgres.AuditRecord{At: time.Now(), Principal: "alice", Route: "/fhir/:type/:id", Target: "Condition/x"})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := w.Close(ctx); err == nil {
		t.Fatal("Close reported success with nothing written")
	}
	got := w.Stats()
	if diff := cmp.Diff(postgres.AuditStats{Dropped: 4}, got, cmpopts.IgnoreFields(postgres.AuditStats{}, "Failures")); diff != "" || got.Failures == 0 {
		t.Errorf("stats mismatch (-want +got):\n%s(failures %d)", diff, got.Failures)
	}
}

// BenchmarkAuditAppend measures one batch INSERT of 500 reads that each
// resolve their patient through a work item.
func BenchmarkAuditAppend(b *testing.B) {
	db := pgtest.New(b)
	if _, err := db.Exec(`INSERT INTO work_items (id, encounter_id, patient_id, status) VALUES ('w-1', 'e-1', 'p-1', 'ready')`); err != nil {
		b.Fatal(err)
	}
	store := postgres.NewAuditStore(db)
	batch := make([]postgres.AuditRecord, 500)
	for i := range batch {
		batch[i] = postgres.AuditRecord{At: time.Now(), Principal: "alice", Role: "coder", Method: "GET",
			Route: "/api/v1/work-items/:id", WorkItem: "w-1", Params: []string{"status"}, Status: 200, RequestID: "req"}
	}
	for b.Loop() {
		if err := store.Append(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "rows/s")
}
