package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
	"github.com/codebridge/codebridge/mapping/codes"
)

var codesetsDir = filepath.Join("..", "..", "testdata", "codesets")

func ymd(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// extras are the test extracts loaded next to the bundled sets.
var extras = []struct {
	system  codes.System
	version string
	file    string
}{
	{codes.ICD10CM, "FY2025", "icd10cm_order_2025_extract.txt"},
	{codes.MUETable, "2026Q2", "mue_practitioner_2026q2_extract.json"},
	{codes.PTPTable, "2025Q4", "ptp_practitioner_cms_layout_extract.txt"},
}

func readFile(tb testing.TB, name string) []byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(codesetsDir, name))
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

func bundleBytes(tb testing.TB, name string) []byte {
	tb.Helper()
	for _, b := range codes.Bundled() {
		if b.Name == name {
			rc, err := b.Open()
			if err != nil {
				tb.Fatal(err)
			}
			defer rc.Close()
			var buf bytes.Buffer
			if _, err := buf.ReadFrom(rc); err != nil {
				tb.Fatal(err)
			}
			return buf.Bytes()
		}
	}
	tb.Fatalf("no bundle %s", name)
	return nil
}

// loadExtras loads the test extracts into both lookups.
func loadExtras(tb testing.TB, s *postgres.CodeStore, c *codes.Catalog) {
	tb.Helper()
	for _, x := range extras {
		rel, err := codes.NewRelease(x.system, x.version)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := s.LoadRelease(context.Background(), rel, bytes.NewReader(readFile(tb, x.file)), nil); err != nil {
			tb.Fatal(err)
		}
		if c != nil {
			if _, err := c.Load(rel, bytes.NewReader(readFile(tb, x.file))); err != nil {
				tb.Fatal(err)
			}
		}
	}
}

// TestCodeStore loads the bundled sets once into one database and runs
// the code-set behaviours against it.
func TestCodeStore(t *testing.T) {
	db := pgtest.New(t)
	s := postgres.NewCodeStore(db)
	ctx := context.Background()
	loaded, err := s.LoadBundled(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(loaded) != len(codes.Bundled()) {
		t.Fatalf("LoadBundled loaded %d sets, want %d", len(loaded), len(codes.Bundled()))
	}
	for _, l := range loaded {
		t.Logf("loaded %s: %d rows in %v", l.Name, l.Rows, l.Duration)
	}
	t.Run("BundledMUE", func(t *testing.T) { testBundledMUE(t, s, loaded) }) // before the extras replace it
	cat := codes.NewCatalog()
	if err := codes.LoadBundled(cat); err != nil {
		t.Fatal(err)
	}
	loadExtras(t, s, cat)
	t.Run("Counts", func(t *testing.T) { testCounts(t, db) })
	t.Run("FY2027", func(t *testing.T) { testFY2027(t, s) })
	t.Run("OrderRecords", func(t *testing.T) { testOrderRecords(t, db, s) })
	t.Run("Idempotent", func(t *testing.T) { testIdempotent(t, db, s) })
	t.Run("LookupParity", func(t *testing.T) {
		for name, l := range map[string]codes.Lookup{"catalog": cat, "postgres": s} {
			t.Run(name, func(t *testing.T) { testLookup(t, l) })
		}
	})
	t.Run("Search", func(t *testing.T) { testSearch(t, s) })
	t.Run("SearchDate", func(t *testing.T) { testSearchDate(t, s) })
	t.Run("SearchTerminated", func(t *testing.T) { testSearchTerminated(t, s) })
	t.Run("FailedLoad", func(t *testing.T) { testFailedLoad(t, db, s) })
	t.Run("WrongFile", func(t *testing.T) { testWrongFile(t, db, s) })
	t.Run("VersionLabels", func(t *testing.T) { testVersionLabels(t, s) })
	t.Run("MUEIndicators", func(t *testing.T) { testMUEIndicators(t, s) })
}

// testBundledMUE checks that LoadBundled stored the bundled 2026 Q2
// practitioner MUE extract (9,637 codes, MAI 3) as a partial table: a code
// it lacks answers codes.ErrMUEPartial, never "no MUE".
func testBundledMUE(t *testing.T, s *postgres.CodeStore, loaded []postgres.BundledLoad) {
	i := slices.IndexFunc(loaded, func(l postgres.BundledLoad) bool { return l.Release.System == codes.MUETable })
	if i < 0 || loaded[i].Release.Version != "2026Q2" || loaded[i].Rows != 9637 {
		t.Fatalf("LoadBundled = %+v; want mue 2026Q2 with 9637 rows", loaded)
	}
	ctx := context.Background()
	dos := ymd(2026, 5, 12)
	for _, pass := range []string{"database", "cache"} {
		if m, err := s.MUE(ctx, "99381", dos); err != nil || m.MaxUnits != 0 || m.Indicator != codes.MAIDOSClinic {
			t.Errorf("%s: MUE 99381 = %+v, %v; want 0 units, MAI 3", pass, m, err)
		}
		if _, err := s.MUE(ctx, "11042", dos); !errors.Is(err, codes.ErrMUEPartial) {
			t.Errorf("%s: MUE 11042 = %v; want ErrMUEPartial", pass, err)
		}
	}
}

// testMUEIndicators loads the CMS MUE layout (with the MUE adjudication
// indicator column) into its own quarter and checks that the MAI of each
// row is stored, and that a full table answers ErrNotFound for a code it
// lacks.
func testMUEIndicators(t *testing.T, s *postgres.CodeStore) {
	ctx := context.Background()
	rel, _ := codes.NewRelease(codes.MUETable, "2026Q3")
	res, err := s.LoadRelease(ctx, rel, bytes.NewReader(readFile(t, "mue_practitioner_cms_layout_extract.csv")), nil)
	if err != nil || res.Rows != 10 {
		t.Fatalf("load CMS MUE layout = %+v, %v; want 10 rows", res, err)
	}
	dos := ymd(2026, 8, 3)
	for code, want := range map[string]codes.MUE{
		"97110": {Code: "97110", MaxUnits: 4, Indicator: codes.MAILine, Rationale: "Clinical: Data"},
		"11042": {Code: "11042", MaxUnits: 1, Indicator: codes.MAIDOSPolicy, Rationale: "Code Descriptor / CPT Instruction"},
		"80053": {Code: "80053", MaxUnits: 1, Indicator: codes.MAIDOSClinic, Rationale: "Clinical: Data"},
	} {
		if got, err := s.MUE(ctx, code, dos); err != nil || got != want {
			t.Errorf("MUE %s = %+v, %v; want %+v", code, got, err, want)
		}
	}
	if _, err := s.MUE(ctx, "99999", dos); !errors.Is(err, codes.ErrNotFound) || errors.Is(err, codes.ErrMUEPartial) {
		t.Errorf("MUE 99999 in a full table = %v; want ErrNotFound", err)
	}
}

// TestBundlesToLoad: a bundle is skipped when a stored release of its
// system covers any of its dates, whatever its version label, so a full
// MUE table a site loaded for the quarter is never replaced or refused.
func TestBundlesToLoad(t *testing.T) {
	var mue codes.Bundle
	for _, b := range codes.Bundled() {
		if b.Release.System == codes.MUETable {
			mue = b
		}
	}
	info := func(system codes.System, version string) postgres.ReleaseInfo {
		rel, err := codes.NewRelease(system, version)
		if err != nil {
			t.Fatal(err)
		}
		return postgres.ReleaseInfo{Release: rel}
	}
	for _, tt := range []struct {
		name   string
		stored []postgres.ReleaseInfo
		want   bool
	}{
		{"nothing stored", nil, true},
		{"same quarter, other label", []postgres.ReleaseInfo{info(codes.MUETable, "2026-Apr")}, false},
		{"same version", []postgres.ReleaseInfo{info(codes.MUETable, "2026Q2")}, false},
		{"next quarter", []postgres.ReleaseInfo{info(codes.MUETable, "2026Q3")}, true},
		{"other system, same quarter", []postgres.ReleaseInfo{info(codes.PTPTable, "2026Q2")}, true},
	} {
		got := slices.ContainsFunc(postgres.BundlesToLoad(tt.stored, codes.Bundled()), func(b codes.Bundle) bool { return b.Name == mue.Name })
		if got != tt.want {
			t.Errorf("%s: bundled MUE to load = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func count(t *testing.T, db *postgres.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

const countEntries = `SELECT count(*) FROM code_entries e JOIN code_releases r ON r.id = e.release_id
	WHERE r.version = $1 AND e.system = $2 AND e.billable = $3`

func testCounts(t *testing.T, db *postgres.DB) {
	got := map[string]int{
		"icd10cm billable":        count(t, db, countEntries, "FY2026", "icd10cm", true),
		"icd10cm headers":         count(t, db, countEntries, "FY2026", "icd10cm", false),
		"icd10cm FY2027 billable": count(t, db, countEntries, "FY2027", "icd10cm", true),
		"icd10cm FY2027 headers":  count(t, db, countEntries, "FY2027", "icd10cm", false),
		"icd10pcs billable":       count(t, db, countEntries, "FY2026", "icd10pcs", true),
		"hcpcs":                   count(t, db, countEntries, "2025-Oct", "hcpcs", true),
		"hcpcsmod":                count(t, db, countEntries, "2025-Oct", "hcpcsmod", true),
		"poaexempt":               count(t, db, `SELECT count(*) FROM code_poa_exempt`),
		"mue":                     count(t, db, `SELECT count(*) FROM code_mues WHERE code <> $1`, codes.MUEPartialMarker),
		"mue partial":             count(t, db, `SELECT count(*) FROM code_mues WHERE code = $1`, codes.MUEPartialMarker),
		"ptp":                     count(t, db, `SELECT count(*) FROM code_ptps`),
	}
	want := map[string]int{"icd10cm billable": 74719, "icd10cm headers": 23467, "icd10pcs billable": 79115,
		"icd10cm FY2027 billable": 74879, "icd10cm FY2027 headers": 23524,
		"hcpcs": 8463, "hcpcsmod": 383, "poaexempt": 38349, "mue": 27, "mue partial": 1, "ptp": 9}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("row counts mismatch (-want +got):\n%s", diff)
	}
}

func testIdempotent(t *testing.T, db *postgres.DB, s *postgres.CodeStore) {
	ctx := context.Background()
	before, err := s.ListReleases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if loaded, err := s.LoadBundled(ctx); err != nil || len(loaded) != 0 {
		t.Errorf("second LoadBundled = %v, %v; want nothing loaded", loaded, err)
	}
	rel, _ := codes.NewRelease(codes.ICD10CM, "FY2026")
	res, err := s.LoadRelease(ctx, rel, bytes.NewReader(bundleBytes(t, "icd10cm_order_2026.txt")), nil)
	if err != nil || !res.Unchanged || res.Rows != 98186 {
		t.Errorf("reloading identical ICD-10-CM = %+v, %v; want unchanged, 98186 rows", res, err)
	}
	after, err := s.ListReleases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("releases changed by a no-op load (-before +after):\n%s", diff)
	}
	if len(after) != 9 { // main's 8 and the bundled MCE v43.1
		t.Errorf("%d releases listed, want 8: %+v", len(after), after)
	}
}

type lookupResult struct {
	Code, Version string
	Billable      bool
	Err           error
}

func testLookup(t *testing.T, l codes.Lookup) {
	ctx := context.Background()
	fy26, fy25 := ymd(2025, 11, 14), ymd(2025, 9, 15)
	tests := []struct {
		system codes.System
		code   string
		dos    time.Time
		want   lookupResult
	}{
		{codes.ICD10CM, "J20.9", fy26, lookupResult{"J209", "FY2026", true, nil}},
		{codes.ICD10CM, "j209", fy26, lookupResult{"J209", "FY2026", true, nil}},
		{codes.ICD10CM, "J20", fy26, lookupResult{"J20", "FY2026", false, nil}},
		{codes.ICD10CM, "B88.0", fy26, lookupResult{"B880", "FY2026", false, nil}},
		{codes.ICD10CM, "B88.0", fy25, lookupResult{"B880", "FY2025", true, nil}},
		{codes.ICD10CM, "B88.01", fy25, lookupResult{"B8801", "FY2027", true, codes.ErrNotInForce}}, // the newest release with it
		{codes.ICD10CM, "B88.0", ymd(2024, 1, 1), lookupResult{Err: codes.ErrNoRelease}},
		{codes.ICD10CM, "Q99.99", fy26, lookupResult{Err: codes.ErrNotFound}},
		{codes.ICD10PCS, "0016070", fy26, lookupResult{"0016070", "FY2026", true, nil}},
		{codes.HCPCS, "J1885", fy26, lookupResult{"J1885", "2025-Oct", true, nil}},
		{codes.HCPCS, "A4397", fy26, lookupResult{"A4397", "2025-Oct", true, codes.ErrNotInForce}},
		{codes.HCPCS, "J1885", ymd(2026, 1, 2), lookupResult{Err: codes.ErrNoRelease}},
		{codes.HCPCSModifier, "XU", fy26, lookupResult{"XU", "2025-Oct", true, nil}},
		{codes.CPT, "99213", fy26, lookupResult{Err: codes.ErrNoRelease}},
	}
	for _, tt := range tests {
		e, err := l.Code(ctx, tt.system, tt.code, tt.dos)
		got := lookupResult{e.Code, e.Release.Version, e.Billable, classify(err, tt.want.Err)}
		if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b error) bool { return a == b })); diff != "" {
			t.Errorf("Code(%s, %s, %s) mismatch (-want +got):\n%s", tt.system, tt.code, tt.dos.Format(time.DateOnly), diff)
		}
	}
	testEdits(t, l)
	testHistory(t, l)
}

// testHistory checks History: the loaded releases of a system, newest
// first, and the code's entries among them, with the lifetime they give.
func testHistory(t *testing.T, l codes.Lookup) {
	ctx := context.Background()
	versions := func(rs []codes.Release) string {
		var vs []string
		for _, r := range rs {
			vs = append(vs, string(r.System)+" "+r.Version)
		}
		return strings.Join(vs, ",")
	}
	for _, tt := range []struct {
		system        codes.System
		code          string
		rels, entries string
		dos           time.Time
		want          codes.State
	}{
		{codes.ICD10CM, "B88.01", "icd10cm FY2027,icd10cm FY2026,icd10cm FY2025", "icd10cm FY2027,icd10cm FY2026", ymd(2024, 6, 1), codes.NotYetValid},
		{codes.ICD10CM, "J20.9", "icd10cm FY2027,icd10cm FY2026,icd10cm FY2025", "icd10cm FY2027,icd10cm FY2026,icd10cm FY2025", ymd(2024, 6, 1), codes.Unknown},
		{codes.HCPCS, "A4397", "hcpcs 2025-Oct", "hcpcs 2025-Oct", ymd(2025, 11, 14), codes.Deleted},
		{codes.HCPCSModifier, "XU", "hcpcsmod 2025-Oct", "hcpcsmod 2025-Oct", ymd(2025, 11, 14), codes.Unknown},
		{codes.ICD10CM, "Q99.99", "icd10cm FY2027,icd10cm FY2026,icd10cm FY2025", "", ymd(2025, 11, 14), codes.Unknown},
		{codes.CPT, "99213", "", "", ymd(2025, 11, 14), codes.Unknown},
	} {
		h, err := l.History(ctx, tt.system, tt.code)
		if err != nil {
			t.Fatalf("History(%s, %s): %v", tt.system, tt.code, err)
		}
		got := []any{versions(h.Releases), versions(entryReleases(h.Entries)), h.On(tt.dos).State}
		if diff := cmp.Diff([]any{tt.rels, tt.entries, tt.want}, got); diff != "" {
			t.Errorf("History(%s, %s) mismatch (-want +got):\n%s", tt.system, tt.code, diff)
		}
	}
}

func entryReleases(es []codes.Entry) []codes.Release {
	var out []codes.Release
	for _, e := range es {
		out = append(out, e.Release)
	}
	return out
}

// classify returns want when err is want, else err itself.
func classify(err, want error) error {
	if err != nil && want != nil && errors.Is(err, want) {
		return want
	}
	return err
}

func testEdits(t *testing.T, l codes.Lookup) {
	ctx := context.Background()
	if m, err := l.MUE(ctx, "80053", ymd(2026, 5, 1)); err != nil || m.MaxUnits != 1 || m.Indicator != codes.MAIDOSPolicy && m.Indicator != codes.MAIDOSClinic {
		t.Errorf("MUE 80053 = %+v, %v; want 1 unit per day", m, err)
	}
	if _, err := l.MUE(ctx, "99999", ymd(2026, 5, 1)); !errors.Is(err, codes.ErrMUEPartial) {
		t.Errorf("MUE 99999 (JSON extract, partial): %v, want ErrMUEPartial", err)
	}
	if _, err := l.MUE(ctx, "80053", ymd(2025, 5, 1)); !errors.Is(err, codes.ErrNoRelease) {
		t.Errorf("MUE 80053 in 2025: %v, want ErrNoRelease", err)
	}
	if p, err := l.PTP(ctx, "20610", "76942", ymd(2025, 11, 1)); err != nil || p.Modifier != 0 || !p.Effective.Equal(ymd(2015, 1, 1)) {
		t.Errorf("PTP 20610/76942 = %+v, %v", p, err)
	}
	if _, err := l.PTP(ctx, "76942", "20610", ymd(2025, 11, 1)); !errors.Is(err, codes.ErrNotFound) {
		t.Errorf("PTP reversed: %v, want ErrNotFound", err)
	}
	if _, err := l.PTP(ctx, "99215", "97110", ymd(2025, 11, 1)); !errors.Is(err, codes.ErrNotFound) {
		t.Errorf("PTP deleted 2025-11-01: %v, want ErrNotFound", err)
	}
	for code, want := range map[string]bool{"B90.0": true, "Z37.0": true, "J20.9": false} {
		if got, err := l.POAExempt(ctx, code, ymd(2025, 11, 1)); err != nil || got != want {
			t.Errorf("POAExempt(%s) = %v, %v; want %v", code, got, err, want)
		}
	}
	if _, err := l.POAExempt(ctx, "B90.0", ymd(2020, 1, 1)); !errors.Is(err, codes.ErrNoRelease) {
		t.Errorf("POAExempt in 2020: %v, want ErrNoRelease", err)
	}
}

func search(t *testing.T, s *postgres.CodeStore, system codes.System, q string, date time.Time) postgres.CodeSearch {
	t.Helper()
	res, err := s.SearchCodes(context.Background(), system, q, date, 10)
	if err != nil {
		t.Fatalf("SearchCodes(%s, %q): %v", system, q, err)
	}
	return res
}

func testSearch(t *testing.T, s *postgres.CodeStore) {
	dos := ymd(2025, 11, 14)
	for _, q := range []string{"J20.9", "J209", "j20.9"} {
		res := search(t, s, codes.ICD10CM, q, dos)
		if len(res.Hits) == 0 || res.Hits[0].Display != "J20.9" || !res.Hits[0].Billable || !res.InForce {
			t.Errorf("search %q: %+v; want J20.9 first, billable, in force", q, res)
		}
	}
	res := search(t, s, codes.ICD10CM, "J20", dos)
	if got := displays(res.Hits[:3]); got != "J20 J20.0 J20.1" {
		t.Errorf("search J20: top 3 = %s, want the category then its codes", got)
	}
	res = search(t, s, codes.ICD10CM, "acute bronchitis", dos)
	for _, h := range res.Hits[:5] {
		if !strings.HasPrefix(h.Code, "J20") {
			t.Errorf("search 'acute bronchitis': top 5 = %s, want acute bronchitis (J20.-) codes", displays(res.Hits[:5]))
			break
		}
	}
	res = search(t, s, codes.ICD10CM, "bronch", dos)
	for _, h := range res.Hits {
		if !strings.Contains(strings.ToLower(h.Title), "bronch") {
			t.Errorf("search 'bronch': %s %q does not mention bronch", h.Display, h.Title)
		}
	}
	if len(res.Hits) != 10 {
		t.Errorf("search 'bronch': %d hits, want 10", len(res.Hits))
	}
	for q, want := range map[string]string{
		"bronchitiss":       "bronchitis", // misspelt: trigram fallback
		"fractre of femur":  "femur",      // one misspelt word among known ones
		"abdominal pain":    "abdominal",  // few full-text hits, all words known
		"fracture of femur": "femur",
	} {
		res = search(t, s, codes.ICD10CM, q, dos)
		if len(res.Hits) == 0 {
			t.Errorf("search %q: no hits", q)
		}
		for _, h := range res.Hits {
			if !strings.Contains(strings.ToLower(h.Title), want) {
				t.Errorf("search %q: %s %q does not mention %q", q, h.Display, h.Title, want)
				break
			}
		}
	}
	res = search(t, s, codes.HCPCS, "j1885", dos)
	if len(res.Hits) == 0 || res.Hits[0].Code != "J1885" {
		t.Errorf("search HCPCS j1885: %s", displays(res.Hits))
	}
	if _, err := s.SearchCodes(context.Background(), codes.CPT, "99213", dos, 10); !errors.Is(err, codes.ErrNoRelease) {
		t.Errorf("search CPT without a release: %v, want ErrNoRelease", err)
	}
}

func displays(hs []postgres.CodeHit) string {
	var out []string
	for _, h := range hs {
		out = append(out, h.Display)
	}
	return strings.Join(out, " ")
}

func testSearchDate(t *testing.T, s *postgres.CodeStore) {
	// B88.0 was billable in FY2025 and is a header in FY2026.
	for _, tt := range []struct {
		date     time.Time
		version  string
		inForce  bool
		billable bool
	}{
		{ymd(2025, 9, 15), "FY2025", true, true},
		{ymd(2025, 11, 14), "FY2026", true, false},
		{ymd(2026, 12, 8), "FY2027", true, false},
		{ymd(2031, 1, 1), "FY2027", false, false},
	} {
		res := search(t, s, codes.ICD10CM, "B88.0", tt.date)
		if res.Release.Version != tt.version || res.InForce != tt.inForce || len(res.Hits) == 0 ||
			res.Hits[0].Code != "B880" || res.Hits[0].Billable != tt.billable {
			t.Errorf("search B88.0 on %s: %+v; want %s (in force %v), billable %v",
				tt.date.Format(time.DateOnly), res, tt.version, tt.inForce, tt.billable)
		}
	}
}

// testSearchTerminated: a HCPCS code is billable only within its own
// dates (HCPCS file ADD DT .. TERM DT); search says which date excludes it.
func testSearchTerminated(t *testing.T, s *postgres.CodeStore) {
	for _, tt := range []struct {
		name                  string
		code                  string
		date                  time.Time
		billable              bool
		terminated, effective string
	}{
		{"A4397 terminated 2021-12-31, searched 2025-11-14", "A4397", ymd(2025, 11, 14), false, "2021-12-31", ""},
		{"A4397 before its termination", "A4397", ymd(2021, 6, 1), true, "", ""},
		{"A4397 on its termination date", "A4397", ymd(2021, 12, 31), true, "", ""},
		{"J1885 in force", "J1885", ymd(2025, 11, 14), true, "", ""},
		{"A2036 added 2025-10-01, searched before", "A2036", ymd(2025, 9, 30), false, "", "2025-10-01"},
		{"A2036 on its effective date", "A2036", ymd(2025, 10, 1), true, "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := search(t, s, codes.HCPCS, tt.code, tt.date)
			if len(res.Hits) == 0 || res.Hits[0].Code != tt.code {
				t.Fatalf("search %s: %s; want it first", tt.code, displays(res.Hits))
			}
			h := res.Hits[0]
			got := []any{h.Billable, day(h.Terminated), day(h.Effective)}
			if diff := cmp.Diff([]any{tt.billable, tt.terminated, tt.effective}, got); diff != "" {
				t.Errorf("billable, terminated, effective mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// day is t as YYYY-MM-DD, or "" for the zero time.
func day(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.DateOnly)
}

func testFailedLoad(t *testing.T, db *postgres.DB, s *postgres.CodeStore) {
	ctx := context.Background()
	good := bundleBytes(t, "icd10cm_order_2026.txt")
	mid := bytes.IndexByte(good[len(good)/2:], '\n') + len(good)/2 + 1
	truncated := good[:mid+10]
	garbled := append(append(append([]byte{}, good[:mid]...), "\x00\x01 garbled line\n"...), good[mid:]...)
	small := readFile(t, "icd10cm_order_2025_extract.txt")
	smallGarbled := append(append([]byte{}, small...), "J99 bad\n"...)
	before, _ := s.ListReleases(ctx)
	for _, tt := range []struct {
		name, version string
		data          []byte
	}{
		{"truncated full set", "FY2026", truncated},
		{"garbled full set", "FY2027", garbled[:mid+200]},
		{"garbled extract", "FY2025", smallGarbled},
	} {
		rel, _ := codes.NewRelease(codes.ICD10CM, tt.version)
		if res, err := s.LoadRelease(ctx, rel, bytes.NewReader(tt.data), nil); err == nil {
			t.Errorf("%s load as %s = %+v, nil; want an error", tt.name, tt.version, res)
		}
	}
	after, _ := s.ListReleases(ctx)
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("failed loads changed the releases (-before +after):\n%s", diff)
	}
	if n := count(t, db, countEntries, "FY2026", "icd10cm", true); n != 74719 {
		t.Errorf("after failed loads: %d billable ICD-10-CM codes, want 74719", n)
	}
	if e, err := s.Code(ctx, codes.ICD10CM, "J20.9", ymd(2025, 11, 14)); err != nil || e.Release.Version != "FY2026" {
		t.Errorf("after failed loads: Code(J20.9) = %+v, %v", e, err)
	}
}

// BenchmarkLoadICD10CM loads the full FY2026 ICD-10-CM order file (98,186
// records) into PostgreSQL, each iteration as a new release.
func BenchmarkLoadICD10CM(b *testing.B) {
	db := pgtest.New(b)
	s := postgres.NewCodeStore(db)
	data := bundleBytes(b, "icd10cm_order_2026.txt")
	ctx := context.Background()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rel := codes.Release{System: codes.ICD10CM, Version: fmt.Sprintf("bench-%d", i), From: ymd(2025, 10, 1), To: ymd(2026, 9, 30)}
		if _, err := s.LoadRelease(ctx, rel, bytes.NewReader(data), nil); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if _, err := db.Exec(`DELETE FROM code_releases WHERE version = $1`, rel.Version); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// searchMix is a realistic mix of code and text queries, with a
// misspelling that only the trigram fallback finds.
var searchMix = []string{"J20.9", "J209", "E11", "S72.001A", "bronch", "acute bronchitis", "diabetes",
	"abdominal pain", "pain", "fracture of femur", "chest pain", "type 2 diabetes with hyperglycemia", "bronchitiss"}

// BenchmarkSearchCodes runs searchMix against the full ICD-10-CM set and
// reports p50 and p99 latency over all queries and the p99 of the worst
// query (logged by name).
func BenchmarkSearchCodes(b *testing.B) {
	db := pgtest.New(b)
	s := postgres.NewCodeStore(db)
	ctx := context.Background()
	rel, _ := codes.NewRelease(codes.ICD10CM, "FY2026")
	if _, err := s.LoadRelease(ctx, rel, bytes.NewReader(bundleBytes(b, "icd10cm_order_2026.txt")), nil); err != nil {
		b.Fatal(err)
	}
	for _, q := range searchMix { // warm the plan and buffer caches
		if _, err := s.SearchCodes(ctx, codes.ICD10CM, q, ymd(2025, 11, 14), 20); err != nil {
			b.Fatal(err)
		}
	}
	var lat []time.Duration
	per := map[string][]time.Duration{}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		q := searchMix[i%len(searchMix)]
		start := time.Now()
		if _, err := s.SearchCodes(ctx, codes.ICD10CM, q, ymd(2025, 11, 14), 20); err != nil {
			b.Fatal(err)
		}
		d := time.Since(start)
		lat = append(lat, d)
		per[q] = append(per[q], d)
	}
	b.StopTimer()
	pct := func(lat []time.Duration, p float64) float64 {
		slices.Sort(lat)
		return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(lat, 0.50), "p50-ms")
	b.ReportMetric(pct(lat, 0.99), "p99-ms")
	worst, worstMS := "", -1.0
	for _, q := range searchMix {
		if len(per[q]) == 0 {
			continue
		}
		p50, p99 := pct(per[q], 0.50), pct(per[q], 0.99)
		b.Logf("%-36q p50 %6.2f ms  p99 %6.2f ms", q, p50, p99)
		if p99 > worstMS {
			worst, worstMS = q, p99
		}
	}
	b.Logf("worst query %q: p99 %.2f ms", worst, worstMS)
	b.ReportMetric(worstMS, "worst-p99-ms")
}

// testWrongFile loads empty files and files of another system: each is
// refused with an error naming the file and system, and nothing changes.
func testWrongFile(t *testing.T, db *postgres.DB, s *postgres.CodeStore) {
	ctx := context.Background()
	named := func(name string, data []byte) *os.File {
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	cm := bundleBytes(t, "icd10cm_order_2026.txt")
	pcs := bundleBytes(t, "icd10pcs_order_2026.txt")
	before, _ := s.ListReleases(ctx)
	for _, tt := range []struct {
		name    string
		system  codes.System
		version string
		data    []byte
		want    error
	}{
		{"empty.txt", codes.ICD10CM, "FY2027", nil, codes.ErrNoRecords},
		{"blank.txt", codes.ICD10PCS, "FY2027", []byte("\n\n"), codes.ErrNoRecords},
		{"icd10cm_order_2026.txt", codes.PTPTable, "2026Q1", cm, nil},
		{"icd10cm_order_2026.txt", codes.MUETable, "2026Q1", cm, nil},
		{"empty.csv", codes.HCPCS, "2026Q1", nil, nil},
		{"empty.txt", codes.CPT, "2027", nil, codes.ErrNoRecords},
		{"icd10pcs_order_2026.txt", codes.ICD10CM, "FY2027", pcs, codes.ErrWrongShape},
		{"icd10cm_order_2026.txt", codes.ICD10PCS, "FY2027", cm, codes.ErrWrongShape},
		{"icd10pcs_order_2026.txt", codes.ICD10CM, "FY2026", pcs, codes.ErrWrongShape}, // would replace the good release
	} {
		rel, err := codes.NewRelease(tt.system, tt.version)
		if err != nil {
			t.Fatal(err)
		}
		res, err := s.LoadRelease(ctx, rel, named(tt.name, tt.data), nil)
		if err == nil || tt.want != nil && !errors.Is(err, tt.want) {
			t.Errorf("load %s as %s = %+v, %v; want error %v", tt.name, tt.system, res, err, tt.want)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, string(tt.system)) || tt.want != nil && !strings.Contains(msg, tt.name) {
			t.Errorf("load %s as %s: error %q does not name the file and system", tt.name, tt.system, msg)
		}
	}
	after, _ := s.ListReleases(ctx)
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("refused loads changed the releases (-before +after):\n%s", diff)
	}
	if n := count(t, db, countEntries, "FY2026", "icd10cm", true); n != 74719 {
		t.Errorf("after refused loads: %d billable ICD-10-CM codes, want 74719", n)
	}
}

// testVersionLabels checks that two spellings of one release are one
// release, and that another label over the same dates is refused.
func testVersionLabels(t *testing.T, s *postgres.CodeStore) {
	ctx := context.Background()
	before, _ := s.ListReleases(ctx)
	cm := bundleBytes(t, "icd10cm_order_2026.txt")
	for _, v := range []string{"2026", "fy26", " FY2026"} {
		rel, err := codes.NewRelease(codes.ICD10CM, v)
		if err != nil || rel.Version != "FY2026" {
			t.Fatalf("NewRelease(icd10cm, %q) = %+v, %v; want FY2026", v, rel, err)
		}
		if res, err := s.LoadRelease(ctx, rel, bytes.NewReader(cm), nil); err != nil || !res.Unchanged {
			t.Errorf("load icd10cm --version %q = %+v, %v; want the FY2026 release, unchanged", v, res, err)
		}
	}
	hcpcs := bundleBytes(t, "HCPC2025_OCT_ANWEB.derived.csv")
	for _, v := range []string{"2025Q4", "Oct2025", "2025-10"} {
		rel, _ := codes.NewRelease(codes.HCPCS, v)
		_, err := s.LoadRelease(ctx, rel, bytes.NewReader(hcpcs), nil)
		if !errors.Is(err, postgres.ErrReleaseOverlap) || !strings.Contains(err.Error(), "2025-Oct") {
			t.Errorf("load hcpcs %s over 2025-Oct: %v; want ErrReleaseOverlap naming 2025-Oct", v, err)
		}
	}
	after, _ := s.ListReleases(ctx)
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("version-label loads changed the releases (-before +after):\n%s", diff)
	}
}
