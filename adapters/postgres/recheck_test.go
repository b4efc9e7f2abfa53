package postgres_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
	"github.com/codebridge/codebridge/mapping"
	"github.com/codebridge/codebridge/mapping/codes"
	"github.com/codebridge/codebridge/mapping/edits"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// The two fiscal years of the roll-over tests: D69.1 is billable in FY2026
// and a header in FY2027, where D69.11 is new and billable (the FY2027
// addenda's change to D69.1, made small).
var (
	icdFY2026 = orderFile(orderLine{"D69", false, "Purpura and other haemorrhagic conditions"}, orderLine{"D691", true, "Qualitative platelet defects"},
		orderLine{"J20", false, "Acute bronchitis"}, orderLine{"J209", true, "Acute bronchitis, unspecified"})
	icdFY2027 = orderFile(orderLine{"D69", false, "Purpura and other haemorrhagic conditions"}, orderLine{"D691", false, "Qualitative platelet defects"},
		orderLine{"D6911", true, "Qualitative platelet defect, unspecified"}, orderLine{"J20", false, "Acute bronchitis"}, orderLine{"J209", true, "Acute bronchitis, unspecified"})
)

// realChecker is codebridge's edit checker (cmd/codebridge editChecker)
// with the facility in UTC and IMP institutional.
func realChecker(ctx context.Context, lk codes.Lookup, chart *workitem.Chart, a workitem.Assignment) ([]workitem.Edit, error) {
	ec, err := mapping.EditChart(chart, a, []string{"IMP"}, time.UTC)
	if err != nil {
		return nil, err
	}
	es, err := edits.Check(ctx, lk, ec)
	if err != nil {
		return nil, err
	}
	return mapping.DomainEdits(es), nil
}

// datedVisit writes a finished visit of class (AMB, IMP) from start to end
// (RFC 3339) with one encounter diagnosis and answers its work item id.
func datedVisit(t *testing.T, s *postgres.Store, prefix, class, start, end string) string {
	t.Helper()
	enc := fmt.Sprintf(`"status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"%s"},"subject":{"reference":"{1}"},"period":{"start":"%s","end":"%s"}`, class, start, end)
	writeFreshBundle(t, s, prefix, freshBundle(
		"1", "Patient", `"name":[{"family":"Roll"}],"gender":"female","birthDate":"1970-01-01"`,
		"2", "Encounter", enc,
		"3", "Condition", fmt.Sprintf(fbCond, "J20.9", "{1}", "{2}")))
	var id string
	if err := s.DB().QueryRow(`SELECT id FROM work_items WHERE encounter_id = $1`, prefix+"2").Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// leaseTo puts item id in progress with coder, as a lease would.
func leaseTo(t *testing.T, s *postgres.Store, id, coder string) {
	t.Helper()
	if _, err := s.DB().Exec(`UPDATE work_items SET status = 'in_progress', assignee = $2, lease_expires = now() + interval '1 hour' WHERE id = $1`, id, coder); err != nil {
		t.Fatal(err)
	}
}

// dxEdits are the DX_* and CODE_* edits by diagnosis target, and the code sets named by
// NO_RELEASE_FOR_DOS notes.
func dxEdits(es []workitem.Edit) (dx map[string]string, noRelease []string) {
	dx = map[string]string{}
	for _, e := range es {
		switch {
		case strings.HasPrefix(e.Code, "DX_"), strings.HasPrefix(e.Code, "CODE_"):
			dx[e.Target] += e.Code
		case e.Code == "NO_RELEASE_FOR_DOS":
			noRelease = append(noRelease, e.Covers)
		}
	}
	return dx, noRelease
}

func hasCovers(list []string, system string) bool {
	for _, s := range list {
		if s == system {
			return true
		}
	}
	return false
}

// rollDiagnoses are D69.1 (billable FY2026, header FY2027) and D69.11 (new
// in FY2027).
var rollDiagnoses = workitem.Assignment{Diagnoses: []workitem.AssignedDiagnosis{{Code: "D69.1", POA: "Y"}, {Code: "D69.11", POA: "Y"}}}

// TestRollOverUsesTheReleaseOfTheItemsDate: with FY2026 and FY2027
// ICD-10-CM loaded, an item dated 2026-09-30 is checked against FY2026 and
// one dated 2026-10-01 against FY2027; an inpatient stay admitted
// 2026-09-28 and discharged 2026-10-02 against FY2027 (the discharge date
// governs an inpatient claim's ICD-10-CM/PCS release: Medicare Claims
// Processing Manual, Pub. 100-04, ch. 23, sec. 10.2, as the edit engine
// cites it; dates from mapping.EncounterDates).
func TestRollOverUsesTheReleaseOfTheItemsDate(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	cs := postgres.NewCodeStore(db)
	loadICD(t, cs, "FY2026", icdFY2026)
	loadICD(t, cs, "FY2027", icdFY2027)
	s := postgres.NewStore(db, postgres.StoreOptions{Check: realChecker})
	alice := workitem.Actor{Name: "alice", Role: workitem.RoleCoder}

	for _, c := range []struct {
		name, class, start, end string
		want                    map[string]string // DX_* edits by target
	}{
		{"2026-09-30", "AMB", "2026-09-30T14:00:00Z", "2026-09-30T15:00:00Z", nil},
		{"2026-10-01", "AMB", "2026-10-01T14:00:00Z", "2026-10-01T15:00:00Z", nil},
		{"stay 09-28..10-02", "IMP", "2026-09-28T08:00:00Z", "2026-10-02T11:00:00Z", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			id := datedVisit(t, s, "roll-"+strings.NewReplacer(" ", "", ".", "").Replace(c.name)+"-", c.class, c.start, c.end)
			leaseTo(t, s, id, "alice")
			es, err := s.SaveCodes(ctx, id, alice, 0, rollDiagnoses, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			dx, noRel := dxEdits(es)
			if hasCovers(noRel, "icd10cm") {
				t.Fatalf("edits %+v: NO_RELEASE_FOR_DOS for icd10cm with both years loaded", es)
			}
			fy2026 := c.name == "2026-09-30"
			header, unknown := dx["diagnoses[0]"], dx["diagnoses[1]"]
			if fy2026 {
				if header != "" || unknown == "" || unknown == "DX_HEADER" {
					t.Errorf("edits %+v: want D69.1 clean and D69.11 refused (not in FY2026: CODE_NOT_YET_VALID)", es)
				}
			} else if header != "DX_HEADER" || unknown != "" {
				t.Errorf("edits %+v: want DX_HEADER on D69.1 and D69.11 clean (FY2027)", es)
			}
		})
	}
}

// snapshot is what must not change on an item the re-check leaves alone.
type snapshot struct {
	Status, Codes, Edits, Claim, ClaimRow string
	Version, History, Events              int
	Updated                               time.Time
	Checked                               time.Time // zero: never re-checked
}

func snap(t *testing.T, s *postgres.Store, id string) snapshot {
	t.Helper()
	var sn snapshot
	var checked sql.NullTime
	err := s.DB().QueryRow(`SELECT w.status, w.codes::text, w.edits::text, w.claim_id, w.version, w.updated_at, w.edits_checked_at,
		(SELECT count(*) FROM work_item_history h WHERE h.work_item_id = w.id),
		(SELECT count(*) FROM outbox o WHERE o.key = w.encounter_id OR convert_from(o.value, 'UTF8') LIKE '%' || w.id || '%'),
		coalesce((SELECT row_to_json(c)::text FROM claims c WHERE c.id = w.claim_id), '')
		FROM work_items w WHERE w.id = $1`, id).
		Scan(&sn.Status, &sn.Codes, &sn.Edits, &sn.Claim, &sn.Version, &sn.Updated, &checked, &sn.History, &sn.Events, &sn.ClaimRow)
	if err != nil {
		t.Fatal(err)
	}
	sn.Checked = checked.Time
	return sn
}

func itemEdits(t *testing.T, s *postgres.Store, id string) []workitem.Edit {
	t.Helper()
	it, _, err := s.GetItem(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return it.Edits
}

// TestRecheckAfterRelease: an item in progress, coded on a 2026-11-15
// chart with only FY2026 loaded, carries NO_RELEASE_FOR_DOS for icd10cm;
// loading FY2027 and re-checking drops the note and gives D69.1 its header
// edit, with a history entry by "system" naming the release, no status
// event, the same version (the coder's If-Match still holds) and the same
// assignment. A completed item with the same codes, and its Claim, do not
// change; an item of 2026-09-20 is not looked at; an item a coder's
// transaction holds is taken by a later round, and the release is done
// only then; a further round is a no-op.
func TestRecheckAfterRelease(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	cs := postgres.NewCodeStore(db)
	loadICD(t, cs, "FY2026", icdFY2026)
	claimOpts := mapping.ClaimOptions{SelfPay: true, BillingProvider: "Organization/billing"}
	s := postgres.NewStore(db, postgres.StoreOptions{StatusTopic: "status", Check: realChecker, ClaimOptions: claimOpts})
	postgres.SetRecheckGrace(s, 0)
	alice := workitem.Actor{Name: "alice", Role: workitem.RoleCoder}
	codesOnly := workitem.Assignment{Diagnoses: []workitem.AssignedDiagnosis{{Code: "D69.1"}, {Code: "J20.9"}}}

	nov := datedVisit(t, s, "nov-", "AMB", "2026-11-15T14:00:00Z", "2026-11-15T15:00:00Z")
	done := datedVisit(t, s, "done-", "AMB", "2026-11-15T16:00:00Z", "2026-11-15T17:00:00Z")
	sep := datedVisit(t, s, "sep-", "AMB", "2026-09-20T14:00:00Z", "2026-09-20T15:00:00Z")
	held := datedVisit(t, s, "held-", "AMB", "2026-11-20T14:00:00Z", "2026-11-20T15:00:00Z")
	for _, id := range []string{nov, done, sep, held} {
		leaseTo(t, s, id, "alice")
		if _, err := s.SaveCodes(ctx, id, alice, 0, codesOnly, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	// The completed item: submitted through a store whose checker passes,
	// so its Claim is issued.
	lenient := postgres.NewStore(db, postgres.StoreOptions{StatusTopic: "status", ClaimOptions: claimOpts,
		Check: func(context.Context, codes.Lookup, *workitem.Chart, workitem.Assignment) ([]workitem.Edit, error) {
			return nil, nil
		}})
	if err := lenient.Submit(ctx, done, alice, workitem.SubmitOptions{QASampleRate: 0}); err != nil {
		t.Fatal(err)
	}
	if sn := snap(t, s, done); sn.Status != "completed" || sn.ClaimRow == "" {
		t.Fatalf("the completed item: %+v; want completed with a Claim", sn)
	}
	if _, noRel := dxEdits(itemEdits(t, s, nov)); !hasCovers(noRel, "icd10cm") {
		t.Fatalf("November item with only FY2026 loaded: edits %+v, want NO_RELEASE_FOR_DOS for icd10cm", itemEdits(t, s, nov))
	}
	sepEdits := itemEdits(t, s, sep)
	if dx, noRel := dxEdits(sepEdits); len(dx) != 0 || hasCovers(noRel, "icd10cm") {
		t.Fatalf("September item: edits %+v, want D69.1 and J20.9 clean in FY2026", sepEdits)
	}

	// The worker's first round sees FY2026 (loaded before it ran): the
	// items' edits come out the same, so nothing is written but the mark.
	before := map[string]snapshot{}
	for _, id := range []string{nov, done, sep, held} {
		before[id] = snap(t, s, id)
	}
	for {
		n, err := s.RecheckAfterRelease(ctx, 2)
		if err != nil {
			t.Fatal(err)
		}
		if n.Updated != 0 || n.Failed != 0 {
			t.Fatalf("round on FY2026 = %+v; want edits unchanged", n)
		}
		if n.Looked() == 0 {
			break
		}
	}
	for id, b := range before {
		a := snap(t, s, id)
		a.Checked, b.Checked = time.Time{}, time.Time{}
		if a != b {
			t.Fatalf("item %s changed by the FY2026 round:\n%+v\n%+v", id, b, a)
		}
	}
	sepChecked := snap(t, s, sep).Checked
	if sepChecked.IsZero() {
		t.Fatal("the September item was never looked at against FY2026")
	}
	for id := range before {
		before[id] = snap(t, s, id)
	}
	novVersion := before[nov].Version

	// FY2027 is loaded; a coder's transaction holds the item of 11-20.
	loadICD(t, cs, "FY2027", icdFY2027)
	lock, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback()
	if _, err := lock.Exec(`SELECT 1 FROM work_items WHERE id = $1 FOR UPDATE`, held); err != nil {
		t.Fatal(err)
	}
	n, err := s.RecheckAfterRelease(ctx, 8)
	if err != nil || n != (workitem.RecheckCounts{Updated: 1}) {
		t.Fatalf("round after FY2027 = %+v, %v; want the November item updated", n, err)
	}
	novEdits := itemEdits(t, s, nov)
	dx, noRel := dxEdits(novEdits)
	if hasCovers(noRel, "icd10cm") || dx["diagnoses[0]"] != "DX_HEADER" || dx["diagnoses[1]"] != "" {
		t.Errorf("November item after FY2027: edits %+v; want no NO_RELEASE_FOR_DOS(icd10cm), DX_HEADER on D69.1, J20.9 clean", novEdits)
	}
	a := snap(t, s, nov)
	if a.Version != novVersion || a.Codes != before[nov].Codes || a.Status != "in_progress" || a.Events != before[nov].Events || a.History != before[nov].History+1 {
		t.Errorf("November item after the re-check: %+v (before %+v); want version, codes, status and events unchanged, one history entry", a, before[nov])
	}
	_, history, err := s.GetItem(ctx, nov)
	if err != nil {
		t.Fatal(err)
	}
	last := history[len(history)-1]
	if last.Actor != "system" || last.From != workitem.InProgress || last.To != workitem.InProgress ||
		!strings.Contains(last.Reason, "icd10cm FY2027") || !strings.Contains(last.Reason, "added DX_HEADER") || !strings.Contains(last.Reason, "removed NO_RELEASE_FOR_DOS(icd10cm)") {
		t.Errorf("history entry %+v; want system naming icd10cm FY2027 and the edits changed", last)
	}
	for _, id := range []string{done, sep, held} {
		if a := snap(t, s, id); a != before[id] {
			t.Errorf("item %s changed:\n%+v\n%+v", id, before[id], a)
		}
	}
	var pending int
	if err := db.QueryRow(`SELECT count(*) FROM code_release_rechecks WHERE done_at IS NULL`).Scan(&pending); err != nil || pending != 1 {
		t.Fatalf("pending re-checks while an item is held = %d, %v; want FY2027 pending", pending, err)
	}

	// The coder's save with the version they read still holds (through a
	// store built now: the test's loads bypass the grace the worker keeps
	// for cached release lists).
	coder := postgres.NewStore(db, postgres.StoreOptions{StatusTopic: "status", Check: realChecker, ClaimOptions: claimOpts})
	if _, err := coder.SaveCodes(ctx, nov, alice, novVersion, codesOnly, time.Hour); err != nil {
		t.Errorf("SaveCodes with If-Match of the version before the re-check: %v", err)
	}

	// The coder's transaction ends; a later round takes the held item.
	if err := lock.Rollback(); err != nil {
		t.Fatal(err)
	}
	if n, err := s.RecheckAfterRelease(ctx, 8); err != nil || n.Updated != 1 || n.Failed != 0 {
		t.Fatalf("round after the lock = %+v, %v; want the held item updated", n, err)
	}
	if dx, _ := dxEdits(itemEdits(t, s, held)); dx["diagnoses[0]"] != "DX_HEADER" {
		t.Errorf("held item after its re-check: %+v", itemEdits(t, s, held))
	}
	if err := db.QueryRow(`SELECT count(*) FROM code_release_rechecks WHERE done_at IS NULL`).Scan(&pending); err != nil || pending != 0 {
		t.Fatalf("pending re-checks = %d, %v; want none", pending, err)
	}
	// A further round is a no-op.
	after := map[string]snapshot{}
	for _, id := range []string{nov, done, sep, held} {
		after[id] = snap(t, s, id)
	}
	if n, err := s.RecheckAfterRelease(ctx, 8); err != nil || n.Looked() != 0 {
		t.Fatalf("second run = %+v, %v; want a no-op", n, err)
	}
	for id, b := range after {
		if a := snap(t, s, id); a != b {
			t.Errorf("item %s changed by a no-op round:\n%+v\n%+v", id, b, a)
		}
	}
	if c := snap(t, s, sep).Checked; !c.Equal(sepChecked) {
		t.Errorf("September item looked at again after FY2027: checked %v, was %v", c, sepChecked)
	}
}

// TestRecheckFailureIsNoted: an item the checker fails on keeps its edits,
// is noted in its history, and does not hold up the others or the release.
func TestRecheckFailureIsNoted(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	fail := false
	check := func(ctx context.Context, lk codes.Lookup, chart *workitem.Chart, a workitem.Assignment) ([]workitem.Edit, error) {
		if fail && a.Diagnoses[0].Code == "J20.9" {
			return nil, fmt.Errorf("edits.Check: lookup broke")
		}
		return realChecker(ctx, lk, chart, a)
	}
	s := postgres.NewStore(db, postgres.StoreOptions{Check: check})
	postgres.SetRecheckGrace(s, 0)
	alice := workitem.Actor{Name: "alice", Role: workitem.RoleCoder}
	bad := datedVisit(t, s, "bad-", "AMB", "2026-11-15T14:00:00Z", "2026-11-15T15:00:00Z")
	good := datedVisit(t, s, "good-", "AMB", "2026-11-16T14:00:00Z", "2026-11-16T15:00:00Z")
	for id, dx := range map[string]string{bad: "J20.9", good: "D69.1"} {
		leaseTo(t, s, id, "alice")
		if _, err := s.SaveCodes(ctx, id, alice, 0, workitem.Assignment{Diagnoses: []workitem.AssignedDiagnosis{{Code: dx}}}, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	badEdits := snap(t, s, bad).Edits
	loadICD(t, postgres.NewCodeStore(db), "FY2027", icdFY2027)
	fail = true
	var total workitem.RecheckCounts
	for range 5 {
		n, err := s.RecheckAfterRelease(ctx, 8)
		if err != nil {
			t.Fatal(err)
		}
		total.Updated, total.Failed, total.Unchanged = total.Updated+n.Updated, total.Failed+n.Failed, total.Unchanged+n.Unchanged
	}
	if total != (workitem.RecheckCounts{Updated: 1, Failed: 1}) {
		t.Fatalf("rounds = %+v; want the good item updated and the bad one failed once", total)
	}
	if e := snap(t, s, bad).Edits; e != badEdits {
		t.Errorf("failed item's edits %s, want kept %s", e, badEdits)
	}
	_, history, err := s.GetItem(ctx, bad)
	if err != nil {
		t.Fatal(err)
	}
	if last := history[len(history)-1]; last.Actor != "system" || !strings.Contains(last.Reason, "lookup broke") {
		t.Errorf("failed item's last history entry %+v; want the failure noted", last)
	}
	var pending int
	if err := db.QueryRow(`SELECT count(*) FROM code_release_rechecks WHERE done_at IS NULL`).Scan(&pending); err != nil || pending != 0 {
		t.Errorf("pending re-checks = %d, %v; want none", pending, err)
	}
	var raw []byte
	if err := db.QueryRow(`SELECT edits FROM work_items WHERE id = $1`, good).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	var es []workitem.Edit
	if err := json.Unmarshal(raw, &es); err != nil {
		t.Fatal(err)
	}
	if dx, _ := dxEdits(es); dx["diagnoses[0]"] != "DX_HEADER" {
		t.Errorf("good item's edits %+v; want DX_HEADER", es)
	}
}

// TestRecheckWaitsOutCachedReleaseLists: a release is re-checked only once
// its grace has passed (longer than any process caches its release list),
// so a save made meanwhile with a list cached from before the load is
// re-checked too; until then it is pending and no item is looked at.
func TestRecheckWaitsOutCachedReleaseLists(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	s := postgres.NewStore(db, postgres.StoreOptions{Check: realChecker})
	postgres.SetRecheckGrace(s, time.Hour)
	alice := workitem.Actor{Name: "alice", Role: workitem.RoleCoder}
	id := datedVisit(t, s, "wait-", "AMB", "2026-11-15T14:00:00Z", "2026-11-15T15:00:00Z")
	leaseTo(t, s, id, "alice")
	if _, err := s.SaveCodes(ctx, id, alice, 0, rollDiagnoses, time.Hour); err != nil {
		t.Fatal(err)
	}
	loadICD(t, postgres.NewCodeStore(db), "FY2027", icdFY2027)
	if n, err := s.RecheckAfterRelease(ctx, 8); err != nil || n.Looked() != 0 {
		t.Fatalf("round within the grace = %+v, %v; want nothing looked at", n, err)
	}
	var pending int
	if err := db.QueryRow(`SELECT count(*) FROM code_release_rechecks WHERE done_at IS NULL`).Scan(&pending); err != nil || pending != 1 {
		t.Fatalf("pending re-checks = %d, %v; want FY2027 seen and pending", pending, err)
	}
	// The grace over (as if an hour had passed), the item is re-checked.
	if _, err := db.Exec(`UPDATE code_release_rechecks SET started_at = clock_timestamp()`); err != nil {
		t.Fatal(err)
	}
	if n, err := s.RecheckAfterRelease(ctx, 8); err != nil || n.Updated != 1 {
		t.Fatalf("round after the grace = %+v, %v; want the item updated", n, err)
	}
}

// TestRecheckSharedByProcesses: two stores (two codebridge processes)
// re-checking at once share the items: each item's edits change once, with
// one history entry, and the release ends done.
func TestRecheckSharedByProcesses(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	stores := []*postgres.Store{postgres.NewStore(db, postgres.StoreOptions{Check: realChecker}), postgres.NewStore(db, postgres.StoreOptions{Check: realChecker})}
	for _, s := range stores {
		postgres.SetRecheckGrace(s, 0)
	}
	alice := workitem.Actor{Name: "alice", Role: workitem.RoleCoder}
	var ids []string
	for i := range 8 {
		id := datedVisit(t, stores[0], fmt.Sprintf("p%d-", i), "AMB", "2026-11-15T14:00:00Z", "2026-11-15T15:00:00Z")
		leaseTo(t, stores[0], id, "alice")
		if _, err := stores[0].SaveCodes(ctx, id, alice, 0, rollDiagnoses, time.Hour); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	loadICD(t, postgres.NewCodeStore(db), "FY2027", icdFY2027)
	updated := make(chan int, 2)
	errs := make(chan error, 2)
	for _, s := range stores {
		go func() {
			total := 0
			for {
				n, err := s.RecheckAfterRelease(ctx, 2)
				if err != nil {
					errs <- err
					return
				}
				total += n.Updated
				if n.Looked() == 0 {
					updated <- total
					return
				}
			}
		}()
	}
	total := 0
	for range stores {
		select {
		case err := <-errs:
			t.Fatal(err)
		case n := <-updated:
			total += n
		}
	}
	// A round that found nothing may have ended while the other still held
	// items: one more round each finishes the release.
	for _, s := range stores {
		n, err := s.RecheckAfterRelease(ctx, 8)
		if err != nil {
			t.Fatal(err)
		}
		total += n.Updated
	}
	if total != len(ids) {
		t.Errorf("items updated = %d, want %d", total, len(ids))
	}
	for _, id := range ids {
		var entries int
		if err := db.QueryRow(`SELECT count(*) FROM work_item_history WHERE work_item_id = $1 AND actor = 'system'`, id).Scan(&entries); err != nil || entries != 1 {
			t.Errorf("item %s: %d re-check history entries, %v; want 1", id, entries, err)
		}
	}
	var pending int
	if err := db.QueryRow(`SELECT count(*) FROM code_release_rechecks WHERE done_at IS NULL`).Scan(&pending); err != nil || pending != 0 {
		t.Errorf("pending re-checks = %d, %v; want none", pending, err)
	}
}
