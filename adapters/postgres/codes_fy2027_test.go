package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/mapping/codes"
)

// testFY2027 is the done-when of issue #18 on a database LoadBundled
// filled from empty: an ICD-10-CM release in force on 2026-12-08 with
// 74,879 billable codes, FY2027 derived from the FY2026 order file and the
// FY2027 addenda; D69.11 (new in FY2027) billable on 2026-12-08 and not
// yet valid on 2026-09-30; D69.1 (a header from FY2027) the other way.
func testFY2027(t *testing.T, s *postgres.CodeStore) {
	ctx := context.Background()
	today, before := ymd(2026, 12, 8), ymd(2026, 9, 30)
	rels, err := s.ListReleases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var inForce []postgres.ReleaseInfo
	billable := map[string]int{}
	for _, r := range rels {
		billable[string(r.System)+" "+r.Version] = r.Billable
		if r.System == codes.ICD10CM && r.Covers(today) {
			inForce = append(inForce, r)
		}
	}
	if len(inForce) != 1 || inForce[0].Version != "FY2027" || inForce[0].Billable != 74879 || inForce[0].Rows != 98403 ||
		inForce[0].Source != "icd10cm_order_addenda_2027.txt applied to icd10cm_order_2026.txt" ||
		!inForce[0].From.Equal(ymd(2026, 10, 1)) || !inForce[0].To.Equal(ymd(2027, 9, 30)) {
		t.Fatalf("ICD-10-CM releases in force on 2026-12-08: %+v; want FY2027 (2026-10-01..2027-09-30), 98403 rows, 74879 billable, derived", inForce)
	}
	wantBillable := map[string]int{"icd10cm FY2027": 74879, "icd10cm FY2026": 74719, "icd10pcs FY2026": 79115,
		"hcpcs 2025-Oct": 8463, "poaexempt FY2026": 0, "mue 2026Q2": 0}
	for k, want := range wantBillable {
		if billable[k] != want {
			t.Errorf("%s: billable %d, want %d", k, billable[k], want)
		}
	}
	for _, tt := range []struct {
		code     string
		dos      time.Time
		version  string
		billable bool
		err      error
		state    codes.State
	}{
		{"D69.11", today, "FY2027", true, nil, codes.Unknown},
		{"D69.11", before, "FY2027", true, codes.ErrNotInForce, codes.NotYetValid},
		{"D69.1", today, "FY2027", false, nil, codes.Unknown},
		{"D69.1", before, "FY2026", true, nil, codes.Unknown},
		{"J20.9", today, "FY2027", true, nil, codes.Unknown},
	} {
		e, err := s.Code(ctx, codes.ICD10CM, tt.code, tt.dos)
		got := []any{e.Release.Version, e.Billable, classify(err, tt.err)}
		if diff := cmp.Diff([]any{tt.version, tt.billable, tt.err}, got, cmp.Comparer(func(a, b error) bool { return a == b })); diff != "" {
			t.Errorf("Code(%s, %s) mismatch (-want +got):\n%s", tt.code, tt.dos.Format(time.DateOnly), diff)
		}
		h, err := s.History(ctx, codes.ICD10CM, tt.code)
		if err != nil {
			t.Fatal(err)
		}
		if got := h.On(tt.dos); got.State != tt.state {
			t.Errorf("History(%s).On(%s) = %+v, want state %v", tt.code, tt.dos.Format(time.DateOnly), got, tt.state)
		}
	}
}

// testOrderRecords: OrderRecords gives back the bundled FY2026 order file
// in tabular order (the base of a derivation); a release stored without
// order numbers is refused, and loading the same file again records them.
func testOrderRecords(t *testing.T, db *postgres.DB, s *postgres.CodeStore) {
	ctx := context.Background()
	fy26, _ := codes.NewRelease(codes.ICD10CM, "FY2026")
	got, err := s.OrderRecords(ctx, fy26)
	if err != nil {
		t.Fatal(err)
	}
	want, err := codes.ReadOrderRecords(bytes.NewReader(bundleBytes(t, "icd10cm_order_2026.txt")))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("OrderRecords(FY2026): %d records, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("OrderRecords(FY2026)[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	fy24, _ := codes.NewRelease(codes.ICD10CM, "FY2024")
	if _, err := s.OrderRecords(ctx, fy24); !errors.Is(err, postgres.ErrReleaseNotLoaded) {
		t.Errorf("OrderRecords(FY2024) = %v, want ErrReleaseNotLoaded", err)
	}
	// The FY2025 extract as stored before migration 00018.
	fy25, _ := codes.NewRelease(codes.ICD10CM, "FY2025")
	if _, err := db.Exec(`UPDATE code_entries SET ord = NULL WHERE release_id = (SELECT id FROM code_releases WHERE system = 'icd10cm' AND version = 'FY2025')`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.OrderRecords(ctx, fy25); err == nil {
		t.Errorf("OrderRecords of a release without order numbers: no error")
	}
	res, err := s.LoadRelease(ctx, fy25, bytes.NewReader(readFile(t, "icd10cm_order_2025_extract.txt")), nil)
	if err != nil || res.Unchanged || res.Rows != 7 {
		t.Errorf("reloading the same FY2025 file without order numbers = %+v, %v; want it stored again", res, err)
	}
	if recs, err := s.OrderRecords(ctx, fy25); err != nil || len(recs) != 7 || recs[0].Order != 1 {
		t.Errorf("OrderRecords(FY2025) after the reload = %+v, %v", recs, err)
	}
	res, err = s.LoadRelease(ctx, fy25, bytes.NewReader(readFile(t, "icd10cm_order_2025_extract.txt")), nil)
	if err != nil || !res.Unchanged {
		t.Errorf("third load of the FY2025 file = %+v, %v; want unchanged", res, err)
	}
}
