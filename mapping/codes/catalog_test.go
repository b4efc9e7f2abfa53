package codes

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestCatalogBundledCounts(t *testing.T) {
	c := bundledCatalog(t)
	want := map[string]int{"icd10cm FY2026": 98186, "icd10cm FY2027": 98403, "icd10pcs FY2026": 80029, "hcpcs 2025-Oct": 8463,
		"hcpcsmod 2025-Oct": 383, "poaexempt FY2026": 38349, "mue 2026Q2": 9637,
		"mce v43.1": 42 + 125 + 2543 + 856 + 422 + 30 + 2651 + 1} // MCE v43.1: SOURCES.upstream.md §7, Z51.89 on MCEUnacceptableAlone
	got := map[string]int{}
	c.mu.RLock()
	for s, ts := range c.releases {
		for _, t := range ts {
			got[string(s)+" "+t.rel.Version] = t.size()
		}
	}
	c.mu.RUnlock()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

// TestCatalogBundledFY2027: the bundled catalog has FY2026 and the derived
// FY2027 ICD-10-CM, each in force on its own dates. D69.1 became a header
// in FY2027 (its codes D69.11, D69.19 are new): the FY2027 addenda.
func TestCatalogBundledFY2027(t *testing.T) {
	c := bundledCatalog(t)
	ctx := context.Background()
	today, before := ymd(2026, 12, 8), ymd(2026, 9, 30)
	for _, tt := range []struct {
		code     string
		dos      time.Time
		version  string
		billable bool
		err      error
		state    State
	}{
		{"D69.11", today, "FY2027", true, nil, Unknown},
		{"D69.11", before, "FY2027", true, ErrNotInForce, NotYetValid},
		{"D69.1", today, "FY2027", false, nil, Unknown},
		{"D69.1", before, "FY2026", true, nil, Unknown},
	} {
		e, err := c.Code(ctx, ICD10CM, tt.code, tt.dos)
		if e.Release.Version != tt.version || e.Billable != tt.billable || !errors.Is(err, tt.err) && err != tt.err {
			t.Errorf("Code(%s, %s) = %s billable %v, %v; want %s billable %v, %v", tt.code, tt.dos.Format(time.DateOnly),
				e.Release.Version, e.Billable, err, tt.version, tt.billable, tt.err)
		}
		h, _ := c.History(ctx, ICD10CM, tt.code)
		if got := h.On(tt.dos).State; got != tt.state {
			t.Errorf("History(%s).On(%s) = %v, want %v", tt.code, tt.dos.Format(time.DateOnly), got, tt.state)
		}
	}
	for _, tt := range []struct {
		dos     time.Time
		version string
	}{{ymd(2026, 9, 30), "FY2026"}, {ymd(2026, 10, 1), "FY2027"}, {ymd(2027, 9, 30), "FY2027"}} {
		if r, ok := c.InForce(ICD10CM, tt.dos); !ok || r.Version != tt.version {
			t.Errorf("InForce(%s) = %v %v, want %s", tt.dos.Format(time.DateOnly), r, ok, tt.version)
		}
	}
	if _, ok := c.InForce(ICD10CM, ymd(2027, 10, 1)); ok {
		t.Errorf("an ICD-10-CM release is in force on 2027-10-01")
	}
}

func TestCatalogCode(t *testing.T) {
	c := bundledCatalog(t)
	old := NewCatalog()
	rel25, _ := NewRelease(ICD10CM, "FY2025")
	if _, err := old.Load(rel25, openTestdata(t, "icd10cm_order_2025_extract.txt")); err != nil {
		t.Fatal(err)
	}
	fy26, fy25 := ymd(2025, 11, 14), ymd(2025, 9, 15)
	type result struct {
		Code     string
		Billable bool
		Version  string
		Err      error
	}
	tests := []struct {
		cat    *Catalog
		system System
		code   string
		dos    time.Time
		want   result
	}{
		{c, ICD10CM, "J20.9", fy26, result{"J209", true, "FY2026", nil}},
		{c, ICD10CM, "j209", fy26, result{"J209", true, "FY2026", nil}},
		{c, ICD10CM, "J20", fy26, result{"J20", false, "FY2026", nil}},
		{c, ICD10CM, "B88.0", fy26, result{"B880", false, "FY2026", nil}},
		{c, ICD10CM, "B88.0", fy25, result{Err: ErrNoRelease}},
		{c, ICD10CM, "Q99.99", fy26, result{Err: ErrNotFound}},
		{c, ICD10PCS, "0016070", fy26, result{"0016070", true, "FY2026", nil}},
		{c, HCPCS, "J1885", fy26, result{"J1885", true, "2025-Oct", nil}},
		{c, HCPCS, "A4397", fy26, result{"A4397", true, "2025-Oct", ErrNotInForce}},
		{c, HCPCS, "J1885", ymd(2026, 1, 2), result{Err: ErrNoRelease}},
		{c, HCPCSModifier, "XU", fy26, result{"XU", true, "2025-Oct", nil}},
		{old, ICD10CM, "B88.0", fy25, result{"B880", true, "FY2025", nil}},
	}
	for _, tt := range tests {
		e, err := tt.cat.Code(context.Background(), tt.system, tt.code, tt.dos)
		got := result{e.Code, e.Billable, e.Release.Version, nil}
		if err != nil {
			got.Err = tt.want.Err
			if !errors.Is(err, tt.want.Err) {
				got.Err = err
			}
		}
		if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b error) bool { return a == b })); diff != "" {
			t.Errorf("Code(%s, %s, %s) mismatch (-want +got):\n%s", tt.system, tt.code, tt.dos.Format(time.DateOnly), diff)
		}
	}
}

func TestCatalogNotInForceAcrossReleases(t *testing.T) {
	c := NewCatalog()
	rel25, _ := NewRelease(ICD10CM, "FY2025")
	rel26, _ := NewRelease(ICD10CM, "FY2026")
	c.Load(rel25, openTestdata(t, "icd10cm_order_2025_extract.txt"))
	c.Load(rel26, bundledReader(t, "icd10cm_order_2026.txt"))
	// B88.01 was added in FY2026, so a FY2025 date of service is too early.
	e, err := c.Code(context.Background(), ICD10CM, "B88.01", ymd(2025, 9, 1))
	if !errors.Is(err, ErrNotInForce) || e.Release.Version != "FY2026" {
		t.Errorf("B88.01 on 2025-09-01: %v, %v; want ErrNotInForce from FY2026", e.Release, err)
	}
	if got, want := len(c.Releases()), 2; got != want {
		t.Errorf("%d releases, want %d", got, want)
	}
}

func TestCatalogNCCI(t *testing.T) {
	c := NewCatalog()
	mue, _ := NewRelease(MUETable, "2026Q2")
	ptp, _ := NewRelease(PTPTable, "2025Q4")
	if _, err := c.Load(mue, openTestdata(t, "mue_practitioner_2026q2_extract.json")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Load(ptp, openTestdata(t, "ptp_practitioner_cms_layout_extract.txt")); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if m, err := c.MUE(ctx, "80053", ymd(2026, 5, 1)); err != nil || m.MaxUnits != 1 {
		t.Errorf("MUE 80053 = %+v, %v; want 1 unit", m, err)
	}
	// The JSON extract is partial: a code it lacks was not checked.
	if _, err := c.MUE(ctx, "99999", ymd(2026, 5, 1)); !errors.Is(err, ErrMUEPartial) || !errors.Is(err, ErrNoRelease) {
		t.Errorf("MUE 99999: %v, want ErrMUEPartial (an ErrNoRelease)", err)
	}
	if _, err := c.MUE(ctx, "80053", ymd(2025, 5, 1)); !errors.Is(err, ErrNoRelease) {
		t.Errorf("MUE 80053 in 2025: %v, want ErrNoRelease", err)
	}
	if p, err := c.PTP(ctx, "20610", "76942", ymd(2025, 11, 1)); err != nil || p.Modifier != 0 {
		t.Errorf("PTP 20610/76942 = %+v, %v", p, err)
	}
	if _, err := c.PTP(ctx, "76942", "20610", ymd(2025, 11, 1)); !errors.Is(err, ErrNotFound) {
		t.Errorf("PTP reversed: %v, want ErrNotFound", err)
	}
	if _, err := c.PTP(ctx, "99215", "97110", ymd(2025, 11, 1)); !errors.Is(err, ErrNotFound) {
		t.Errorf("PTP deleted 2025-11-01: %v, want ErrNotFound", err)
	}
}

// TestCatalogMUEIndicators loads the CMS layout (with its MUE adjudication
// indicator column) and checks that the MAI of every row is kept and that a
// code the full table lacks has no MUE (ErrNotFound, not ErrMUEPartial).
func TestCatalogMUEIndicators(t *testing.T) {
	c := NewCatalog()
	rel, _ := NewRelease(MUETable, "2026Q3")
	if _, err := c.Load(rel, openTestdata(t, "mue_practitioner_cms_layout_extract.csv")); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	dos := ymd(2026, 8, 3)
	for code, want := range map[string]MUE{
		"97110": {Code: "97110", MaxUnits: 4, Indicator: MAILine, Rationale: "Clinical: Data"},
		"11042": {Code: "11042", MaxUnits: 1, Indicator: MAIDOSPolicy, Rationale: "Code Descriptor / CPT Instruction"},
		"80053": {Code: "80053", MaxUnits: 1, Indicator: MAIDOSClinic, Rationale: "Clinical: Data"},
		"A4550": {Code: "A4550", MaxUnits: 0, Indicator: MAIDOSClinic, Rationale: "Nature of Equipment"},
	} {
		if got, err := c.MUE(ctx, code, dos); err != nil || got != want {
			t.Errorf("MUE %s = %+v, %v; want %+v", code, got, err, want)
		}
	}
	if _, err := c.MUE(ctx, "99999", dos); !errors.Is(err, ErrNotFound) || errors.Is(err, ErrMUEPartial) {
		t.Errorf("MUE 99999 in a full table: %v, want ErrNotFound", err)
	}
}

// TestBundledMUE checks the bundled 2026 Q2 practitioner MUE extract as
// LoadBundled installs it: real values with MAI 3, 0 for a preventive
// visit Medicare does not pay, partial for codes it lacks, and no release
// outside its quarter.
func TestBundledMUE(t *testing.T) {
	var rel Release
	for _, b := range Bundled() {
		if b.Release.System == MUETable {
			rel = b.Release
		}
	}
	if rel.Version != "2026Q2" || !rel.From.Equal(ymd(2026, 4, 1)) || !rel.To.Equal(ymd(2026, 6, 30)) {
		t.Fatalf("bundled MUE release = %v, want mue 2026Q2 (2026-04-01..2026-06-30)", rel)
	}
	c := bundledCatalog(t)
	ctx := context.Background()
	dos := ymd(2026, 5, 12)
	for code, want := range map[string]MUE{
		"99213": {Code: "99213", MaxUnits: 2, Indicator: MAIDOSClinic},
		"99381": {Code: "99381", MaxUnits: 0, Indicator: MAIDOSClinic},
		"J1885": {Code: "J1885", MaxUnits: 8, Indicator: MAIDOSClinic},
	} {
		if got, err := c.MUE(ctx, code, dos); err != nil || got != want {
			t.Errorf("MUE %s = %+v, %v; want %+v", code, got, err, want)
		}
	}
	if _, err := c.MUE(ctx, "11042", dos); !errors.Is(err, ErrMUEPartial) {
		t.Errorf("MUE 11042 (not in the MAI 3 extract) = %v, want ErrMUEPartial", err)
	}
	if _, err := c.MUE(ctx, "99213", ymd(2026, 7, 1)); !errors.Is(err, ErrNoRelease) || errors.Is(err, ErrMUEPartial) {
		t.Errorf("MUE 99213 on 2026-07-01 = %v, want ErrNoRelease", err)
	}
}

func TestCatalogPOAExempt(t *testing.T) {
	c := bundledCatalog(t)
	ctx := context.Background()
	for code, want := range map[string]bool{"B90.0": true, "Z37.0": true, "J20.9": false} {
		got, err := c.POAExempt(ctx, code, ymd(2025, 11, 1))
		if err != nil || got != want {
			t.Errorf("POAExempt(%s) = %v, %v; want %v", code, got, err, want)
		}
	}
}
