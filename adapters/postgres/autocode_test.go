package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping"
	"github.com/codebridge/codebridge/mapping/codes"
	"github.com/codebridge/codebridge/mapping/ingest"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// TestAutoCodeBatch: one transaction looks at several new ready items,
// codes the clean ones, notes why the others were left, never looks at an
// item another transaction holds, takes at most max, and does not look at
// an item again until it changes.
func TestAutoCodeBatch(t *testing.T) {
	ctx := context.Background()
	var looked []string
	check := func(_ context.Context, lk codes.Lookup, chart *workitem.Chart, a workitem.Assignment) ([]workitem.Edit, error) {
		if lk == nil {
			t.Error("the checker was given no code lookup")
		}
		looked = append(looked, a.Diagnoses[0].Code)
		if a.Diagnoses[0].Code == "I10" {
			return []workitem.Edit{{Code: "TEST_EDIT", Severity: "error", Message: "flagged by the test"}}, nil
		}
		return nil, nil
	}
	s := postgres.NewStore(pgtest.New(t), postgres.StoreOptions{StatusTopic: "status", Check: check,
		ClaimOptions: mapping.ClaimOptions{SelfPay: true, BillingProvider: "Organization/billing"}})
	n := 0
	visit := func(code string) string { // a ready visit whose suggestions are complete; returns its Encounter id
		n++
		return autoVisit(t, s, fmt.Sprintf("v%d-", n), code, "")
	}
	clean, flagged, held := visit("J20.9"), visit("I10"), visit("E11.9")

	// Another transaction holds the third item (a coder leasing it).
	tx, err := s.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `SELECT 1 FROM work_items WHERE encounter_id = $1 FOR UPDATE`, held); err != nil {
		t.Fatal(err)
	}
	got, err := s.AutoCodeBatch(ctx, 1, 8) // QA rate 1: coded items go to review, no Claim needed here
	if err != nil {
		t.Fatal(err)
	}
	if got.Coded != 1 || got.Skipped != 1 || len(looked) != 2 {
		t.Fatalf("batch = %+v after looking at %v; want 1 coded (J20.9), 1 skipped (I10), the held item untouched", got, looked)
	}
	type state struct {
		status, codedBy, note, edits string
		seen                         bool
	}
	read := func(enc string) state {
		var st state
		if err := s.DB().QueryRowContext(ctx, `SELECT status, coded_by, autocode_note, edits::text, autocode_version = version FROM work_items WHERE encounter_id = $1`, enc).
			Scan(&st.status, &st.codedBy, &st.note, &st.edits, &st.seen); err != nil {
			t.Fatal(err)
		}
		return st
	}
	if st := read(clean); st.status != "in_review" || st.codedBy != "auto" || !st.seen {
		t.Errorf("clean item = %+v, want coded by auto and in review", st)
	}
	if st := read(flagged); st.status != "ready" || st.codedBy != "" || !st.seen ||
		!strings.Contains(st.note, "not coded straight through: TEST_EDIT: flagged by the test") || !strings.Contains(st.edits, "TEST_EDIT") {
		t.Errorf("flagged item = %+v, want ready with the edit noted", st)
	}
	if st := read(held); st.status != "ready" || st.seen || st.note != "" {
		t.Errorf("held item = %+v, want untouched", st)
	}
	if got, err := s.AutoCodeBatch(ctx, 1, 8); err != nil || got.Looked() != 0 {
		t.Errorf("second batch while the item is held = %+v, %v; want nothing to look at", got, err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}

	// max bounds a batch; the rest wait for the next one.
	visit("J20.9")
	looked = nil
	if got, err := s.AutoCodeBatch(ctx, 1, 1); err != nil || got.Looked() != 1 || len(looked) != 1 {
		t.Errorf("batch of at most 1 = %+v, %v (looked at %v); want exactly one item", got, err, looked)
	}
	if got, err := s.AutoCodeBatch(ctx, 1, 8); err != nil || got.Coded != 1 {
		t.Errorf("next batch = %+v, %v; want the remaining item coded", got, err)
	}
	if got, err := s.AutoCodeBatch(ctx, 1, 8); err != nil || got.Looked() != 0 {
		t.Errorf("batch with nothing new = %+v, %v; want nothing", got, err)
	}

	// An item that fails on its own does not hold up those around it: the
	// batch is rolled back, the item noted as failed and left for a coder,
	// and the next batch codes the others (QA rate 0: completed, Claim
	// issued, and the completed event names the Claim).
	first, broken, last := visit("J20.9"), visit("J20.9"), visit("J20.9")
	if _, err := s.DB().ExecContext(ctx, `UPDATE work_items SET chart = '{"chart": 5}' WHERE encounter_id = $1`, broken); err != nil {
		t.Fatal(err)
	}
	if got, err := s.AutoCodeBatch(ctx, 0, 8); err != nil || got != (workitem.AutoCounts{Failed: 1}) {
		t.Fatalf("batch with a broken item = %+v, %v; want it alone counted as failed", got, err)
	}
	if st := read(broken); st.status != "ready" || !st.seen || !strings.HasPrefix(st.note, "auto-coding failed: chart: ") {
		t.Errorf("broken item = %+v, want ready, seen, with the failure noted", st)
	}
	if st := read(first); st.seen || st.status != "ready" {
		t.Errorf("item before the broken one = %+v, want untouched (the batch rolled back)", st)
	}
	if got, err := s.AutoCodeBatch(ctx, 0, 8); err != nil || got.Coded != 2 || got.Looked() != 2 {
		t.Fatalf("next batch = %+v, %v; want the two good items coded", got, err)
	}
	for _, enc := range []string{first, last} {
		var status, claim, event string
		if err := s.DB().QueryRowContext(ctx, `SELECT w.status, w.claim_id, convert_from(o.value, 'UTF8') FROM work_items w
			JOIN outbox o ON o.key = 'Encounter/' || w.encounter_id WHERE w.encounter_id = $1 ORDER BY o.seq DESC LIMIT 1`, enc).
			Scan(&status, &claim, &event); err != nil {
			t.Fatal(err)
		}
		var reason string
		_ = s.DB().QueryRowContext(ctx, `SELECT reason FROM work_items WHERE encounter_id = $1`, enc).Scan(&reason)
		if status != "completed" || claim == "" || !strings.Contains(event, `"status":"completed"`) || !strings.Contains(event, `"claim":"Claim/`+claim+`"`) {
			t.Errorf("Encounter/%s: %s (%s), claim %q, last event %s; want completed with its Claim named in the event", enc, status, reason, claim, event)
		}
	}
}

// autoVisit writes a ready office visit (finished, 2026-03-10, 99213) whose
// one encounter diagnosis has ICD-10-CM code and the extra Condition JSON
// fields cond (e.g. a verificationStatus); it returns the Encounter id.
func autoVisit(t *testing.T, s *postgres.Store, prefix, code, cond string) string {
	t.Helper()
	writeFreshBundle(t, s, prefix, freshBundle(
		"1", "Patient", `"name":[{"family":"Auto"}],"gender":"male","birthDate":"1970-01-01"`,
		"2", "Encounter", fmt.Sprintf(fbEnc, "finished", "AMB", fbSubject("{1}")),
		"3", "Condition", cond+fmt.Sprintf(fbCond, code, "{1}", "{2}"),
		"4", "Procedure", `"status":"completed","code":{"coding":[{"system":"http://www.ama-assn.org/go/cpt","code":"99213"}]},"subject":{"reference":"{1}"},"encounter":{"reference":"{2}"},"performedDateTime":"2026-03-10T14:30:00Z"`))
	return prefix + "2"
}

// writeFreshBundle parses raw (a freshBundle), plans it with ids prefix1,
// prefix2, ... in entry order and writes it as the EHR would.
func writeFreshBundle(t *testing.T, s *postgres.Store, prefix string, raw []byte) {
	t.Helper()
	parser, err := fhir.NewParser()
	if err != nil {
		t.Fatal(err)
	}
	b, err := parser.ParseBundle(raw)
	if err != nil {
		t.Fatal(err)
	}
	i := 0
	plans, err := mapping.PlanBundle(b, func() string { i++; return fmt.Sprintf("%s%d", prefix, i) })
	if err != nil {
		t.Fatal(err)
	}
	var ws []workitem.ResourceWrite
	for _, p := range plans {
		ws = append(ws, ingest.WriteFor(*p.Write))
	}
	if _, err := s.WriteResources(context.Background(), "ehr", ws); err != nil {
		t.Fatal(err)
	}
}

// TestAutoCodeDecisions: AutoCodeBatch decides by the straight-through
// policy and stores each decision with its reasons: the single-item read
// carries it, the worklist filters on it, and the straight-through report
// counts it with the reasons.
func TestAutoCodeDecisions(t *testing.T) {
	ctx := context.Background()
	check := func(_ context.Context, _ codes.Lookup, _ *workitem.Chart, a workitem.Assignment) ([]workitem.Edit, error) {
		switch a.Diagnoses[0].Code {
		case "I10":
			return []workitem.Edit{{Code: "TEST_EDIT", Severity: "error", Message: "flagged by the test"}}, nil
		case "R05.9":
			return []workitem.Edit{{Code: "TEST_WARN", Severity: "warning", Message: "allowed by the test"}}, nil
		case "E11.9":
			return []workitem.Edit{{Code: "OTHER_WARN", Severity: "warning", Message: "not allowed"}}, nil
		case "K21.9":
			return []workitem.Edit{{Code: "NO_RELEASE_FOR_DOS", Severity: "warning", Message: "no mue release is loaded", Covers: "mue"}}, nil
		}
		return nil, nil
	}
	s := postgres.NewStore(pgtest.New(t), postgres.StoreOptions{StatusTopic: "status", Check: check,
		ClaimOptions: mapping.ClaimOptions{SelfPay: true, BillingProvider: "Organization/billing"},
		AutoCode:     workitem.StraightThroughPolicy{AllowWarnings: []string{"TEST_WARN"}}})
	differential := `"verificationStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-ver-status","code":"differential"}]},`
	type want struct {
		decision string
		reasons  []string
	}
	visits := []struct {
		enc  string
		want want
	}{
		{autoVisit(t, s, "clean-", "J20.9", ""), want{"coded", nil}},
		{autoVisit(t, s, "allowed-", "R05.9", ""), want{"coded", nil}},
		{autoVisit(t, s, "mue1-", "K21.9", ""), want{"coded", nil}}, // one unit: no MUE could fire
		{autoVisit(t, s, "diff-", "J18.9", differential), want{"skipped", []string{"DX_NOT_CONFIRMED"}}},
		{autoVisit(t, s, "warn-", "E11.9", ""), want{"skipped", []string{"OTHER_WARN"}}},
		{autoVisit(t, s, "err-", "I10", ""), want{"skipped", []string{"TEST_EDIT"}}},
	}
	if got, err := s.AutoCodeBatch(ctx, 1, 8); err != nil || got != (workitem.AutoCounts{Coded: 3, Skipped: 3}) {
		t.Fatalf("batch = %+v, %v; want 3 coded and 3 skipped", got, err)
	}
	var skipped []string
	for _, v := range visits {
		var id, status string
		if err := s.DB().QueryRowContext(ctx, `SELECT id, status FROM work_items WHERE encounter_id = $1`, v.enc).Scan(&id, &status); err != nil {
			t.Fatal(err)
		}
		it, _, err := s.GetItem(ctx, id)
		if err != nil || it.AutoCode == nil {
			t.Fatalf("%s: GetItem = %+v, %v; want the decision", v.enc, it.AutoCode, err)
		}
		var codes []string
		for _, r := range it.AutoCode.Reasons {
			codes = append(codes, r.Code)
		}
		if diff := cmp.Diff(v.want, want{it.AutoCode.Decision, codes}, cmp.AllowUnexported(want{})); diff != "" {
			t.Errorf("%s: decision mismatch (-want +got):\n%s", v.enc, diff)
		}
		if wantStatus := map[string]string{"coded": "in_review", "skipped": "ready"}[v.want.decision]; status != wantStatus {
			t.Errorf("%s: status %s, want %s", v.enc, status, wantStatus)
		}
		if v.want.decision == "skipped" {
			skipped = append(skipped, id)
		}
	}
	items, _, err := s.ListItems(ctx, workitem.Filter{AutoCode: workitem.AutoSkipped, Status: []workitem.Status{workitem.Ready}})
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, it := range items {
		listed = append(listed, it.ID)
	}
	if diff := cmp.Diff(skipped, listed, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("worklist autocode=skipped mismatch (-want +got):\n%s", diff)
	}
	r, err := s.StraightThrough(ctx, workitem.ReportRange{})
	if err != nil {
		t.Fatal(err)
	}
	wantReport := workitem.StraightThroughReport{Looked: 6, Passed: 3, Skipped: 3, PassRate: 0.5,
		Reasons: []workitem.ReasonCount{{Code: "DX_NOT_CONFIRMED", Count: 1}, {Code: "OTHER_WARN", Count: 1}, {Code: "TEST_EDIT", Count: 1}}}
	if diff := cmp.Diff(wantReport, r); diff != "" {
		t.Errorf("straight-through report mismatch (-want +got):\n%s", diff)
	}
}

// TestAutoCodeRetryOnRelease: an item skipped for a missing ICD-10-CM
// release is looked at again once an ICD-10-CM release is loaded after its
// decision, and only then; an item skipped with only a missing PTP table
// (a default install: no PTP table is bundled) is never looked at again
// until it changes.
func TestAutoCodeRetryOnRelease(t *testing.T) {
	ctx := context.Background()
	var looked []string
	check := func(_ context.Context, _ codes.Lookup, _ *workitem.Chart, a workitem.Assignment) ([]workitem.Edit, error) {
		looked = append(looked, a.Diagnoses[0].Code)
		switch a.Diagnoses[0].Code {
		case "J20.9":
			return []workitem.Edit{{Code: "NO_RELEASE_FOR_DOS", Severity: "warning", Message: "no icd10cm release for 2026-03-10", Covers: "icd10cm"}}, nil
		case "K21.9":
			return []workitem.Edit{{Code: "NO_RELEASE_FOR_DOS", Severity: "warning", Message: "no ptp release for 2026-03-10", Covers: "ptp"}}, nil
		}
		return nil, nil
	}
	s := postgres.NewStore(pgtest.New(t), postgres.StoreOptions{StatusTopic: "status", Check: check,
		ClaimOptions: mapping.ClaimOptions{SelfPay: true, BillingProvider: "Organization/billing"}})
	icd := autoVisit(t, s, "icd-", "J20.9", "")
	ptp := autoVisit(t, s, "ptp-", "K21.9", "")
	if got, err := s.AutoCodeBatch(ctx, 1, 8); err != nil || got.Looked() != 2 {
		t.Fatalf("first batch = %+v, %v; want both looked at", got, err)
	}
	// The PTP item as a two-line chart leaves it: skipped for the missing
	// PTP table alone (one line here, so the note is set as stored).
	if _, err := s.DB().ExecContext(ctx, `UPDATE work_items SET autocode = '{"decision":"skipped","reasons":[{"code":"NO_RELEASE_FOR_DOS","message":"no ptp release"}]}',
		autocode_note = 'not coded straight through: NO_RELEASE_FOR_DOS: no ptp release' WHERE encounter_id = $1`, ptp); err != nil {
		t.Fatal(err)
	}
	backdate := func() {
		t.Helper()
		if _, err := s.DB().ExecContext(ctx, `UPDATE work_items SET updated_at = now() - interval '10 minutes',
			autocode_at = now() - interval '10 minutes' WHERE encounter_id IN ($1, $2)`, icd, ptp); err != nil {
			t.Fatal(err)
		}
	}
	backdate()
	looked = nil
	if got, err := s.AutoCodeBatch(ctx, 1, 8); err != nil || got.Looked() != 0 {
		t.Fatalf("no release loaded: batch = %+v, %v (looked at %v); want none looked at again", got, err, looked)
	}
	// An ICD-10-CM release loaded after both decisions.
	if _, err := s.DB().ExecContext(ctx, `INSERT INTO code_releases (system, version, valid_from, valid_to, sha256)
		VALUES ('icd10cm', 'FY2026', '2025-10-01', '2026-09-30', '\x00'), ('ptp', '2026Q2', '2026-04-01', '2026-06-30', '\x01')`); err != nil {
		t.Fatal(err)
	}
	if got, err := s.AutoCodeBatch(ctx, 1, 8); err != nil || got.Looked() != 1 || len(looked) != 1 || looked[0] != "J20.9" {
		t.Fatalf("after the ICD-10-CM release: batch = %+v, %v, looked at %v; want only the ICD-10-CM item", got, err, looked)
	}
	backdate()
	if _, err := s.DB().ExecContext(ctx, `UPDATE work_items SET autocode_at = now() WHERE encounter_id = $1`, icd); err != nil {
		t.Fatal(err)
	}
	looked = nil
	if got, err := s.AutoCodeBatch(ctx, 1, 8); err != nil || got.Looked() != 0 {
		t.Fatalf("no release since the retry: batch = %+v, %v (looked at %v); want none", got, err, looked)
	}
}

// TestAutoCodeRetryOnTabularRelease: an item skipped because no ICD-10-CM
// Tabular List covered its date is looked at again once one is loaded
// after its decision (the operator loads the CMS file after charts have
// arrived), and not before.
func TestAutoCodeRetryOnTabularRelease(t *testing.T) {
	ctx := context.Background()
	looked := 0
	check := func(context.Context, codes.Lookup, *workitem.Chart, workitem.Assignment) ([]workitem.Edit, error) {
		looked++
		return []workitem.Edit{{Code: "NO_RELEASE_FOR_DOS", Severity: "warning", Message: "no icd10cm-tabular release for 2026-03-10",
			Covers: "icd10cm-tabular"}}, nil
	}
	s := postgres.NewStore(pgtest.New(t), postgres.StoreOptions{StatusTopic: "status", Check: check,
		ClaimOptions: mapping.ClaimOptions{SelfPay: true, BillingProvider: "Organization/billing"}})
	enc := autoVisit(t, s, "tab-", "J20.9", "")
	if got, err := s.AutoCodeBatch(ctx, 1, 8); err != nil || got.Looked() != 1 {
		t.Fatalf("first batch = %+v, %v; want it looked at", got, err)
	}
	if _, err := s.DB().ExecContext(ctx, `UPDATE work_items SET updated_at = now() - interval '10 minutes',
		autocode_at = now() - interval '10 minutes' WHERE encounter_id = $1`, enc); err != nil {
		t.Fatal(err)
	}
	looked = 0
	if got, err := s.AutoCodeBatch(ctx, 1, 8); err != nil || got.Looked() != 0 || looked != 0 {
		t.Fatalf("no Tabular List loaded: batch = %+v, %v; want none looked at again", got, err)
	}
	if _, err := s.DB().ExecContext(ctx, `INSERT INTO code_releases (system, version, valid_from, valid_to, sha256)
		VALUES ('icd10cm-tabular', 'FY2026', '2025-10-01', '2026-09-30', '\x00')`); err != nil {
		t.Fatal(err)
	}
	if got, err := s.AutoCodeBatch(ctx, 1, 8); err != nil || got.Looked() != 1 || looked != 1 {
		t.Fatalf("after the Tabular List: batch = %+v, %v, looked %d; want the item looked at again", got, err, looked)
	}
}
