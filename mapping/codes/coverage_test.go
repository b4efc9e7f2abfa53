package codes

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestReleaseFor checks the release that covers a date across the
// boundaries that matter: October 1 (ICD-10-CM/PCS and the POA-exempt
// list, Pub. 100-04 ch. 23 §10.2), the first day of each quarter (HCPCS,
// MUE, PTP) and January 1 (CPT), with the command that loads it.
func TestReleaseFor(t *testing.T) {
	tests := []struct {
		system   System
		dos      time.Time
		want     string // Release.String()
		wantHint string
	}{
		{ICD10CM, ymd(2026, 9, 30), "icd10cm FY2026 (2025-10-01..2026-09-30)", "codebridge codes fetch --fy 2026"},
		{ICD10CM, ymd(2026, 10, 1), "icd10cm FY2027 (2026-10-01..2027-09-30)", "codebridge codes fetch --fy 2027"},
		{ICD10PCS, ymd(2026, 11, 15), "icd10pcs FY2027 (2026-10-01..2027-09-30)", "codebridge codes fetch --fy 2027"},
		{POAExemptList, ymd(2026, 12, 31), "poaexempt FY2027 (2026-10-01..2027-09-30)", "codebridge codes fetch --fy 2027"},
		{ICD10CMTabular, ymd(2026, 10, 1), "icd10cm-tabular FY2027 (2026-10-01..2027-09-30)", "codebridge codes fetch --fy 2027"},
		{ICD10CMTabular, ymd(2026, 9, 30), "icd10cm-tabular FY2026 (2025-10-01..2026-09-30)", "codebridge codes fetch --fy 2026"},
		{ICD10PCS, ymd(2027, 1, 1), "icd10pcs FY2027 (2026-10-01..2027-09-30)", "codebridge codes fetch --fy 2027"},
		{HCPCS, ymd(2025, 12, 31), "hcpcs 2025-Oct (2025-10-01..2025-12-31)", "codebridge codes fetch --hcpcs 2025-10"},
		{HCPCS, ymd(2026, 1, 1), "hcpcs 2026-Jan (2026-01-01..2026-03-31)", "codebridge codes fetch --hcpcs 2026-01"},
		{HCPCS, ymd(2027, 3, 31), "hcpcs 2027-Jan (2027-01-01..2027-03-31)", "codebridge codes fetch --hcpcs 2027-01"},
		{HCPCS, ymd(2027, 4, 1), "hcpcs 2027-Apr (2027-04-01..2027-06-30)", "codebridge codes fetch --hcpcs 2027-04"},
		{HCPCSModifier, ymd(2026, 7, 1), "hcpcs 2026-Jul (2026-07-01..2026-09-30)", "codebridge codes fetch --hcpcs 2026-07"},
		{MUETable, ymd(2026, 6, 30), "mue 2026Q2 (2026-04-01..2026-06-30)", "codebridge codes load --system mue --version 2026Q2 FILE"},
		{MUETable, ymd(2026, 7, 1), "mue 2026Q3 (2026-07-01..2026-09-30)", "codebridge codes load --system mue --version 2026Q3 FILE"},
		{PTPTable, ymd(2027, 1, 1), "ptp 2027Q1 (2027-01-01..2027-03-31)", "codebridge codes load --system ptp --version 2027Q1 FILE"},
		{PTPTable, ymd(2026, 12, 31), "ptp 2026Q4 (2026-10-01..2026-12-31)", "codebridge codes load --system ptp --version 2026Q4 FILE"},
		{CPT, ymd(2026, 12, 31), "cpt 2026 (2026-01-01..2026-12-31)", "codebridge codes load --system cpt --version 2026 FILE"},
		{CPT, ymd(2027, 1, 1), "cpt 2027 (2027-01-01..2027-12-31)", "codebridge codes load --system cpt --version 2027 FILE"},
		{MCE, ymd(2026, 3, 31), "mce v43 (2025-10-01..2026-09-30)", "codebridge codes load --system mce --version v43 FILE"},
		{MCE, ymd(2026, 4, 1), "mce v43.1 (2026-04-01..2026-09-30)", "codebridge codes load --system mce --version v43.1 FILE"},
		{MCE, ymd(2026, 10, 1), "mce v44 (2026-10-01..2027-09-30)", "codebridge codes load --system mce --version v44 FILE"},
		// A service late in the evening keeps its own civil date.
		{ICD10CM, time.Date(2026, 9, 30, 23, 30, 0, 0, time.FixedZone("EDT", -4*3600)), "icd10cm FY2026 (2025-10-01..2026-09-30)", "codebridge codes fetch --fy 2026"},
	}
	for _, tt := range tests {
		r, err := ReleaseFor(tt.system, tt.dos)
		if err != nil {
			t.Errorf("ReleaseFor(%s, %s): %v", tt.system, tt.dos, err)
			continue
		}
		if r.String() != tt.want || LoadHint(r) != tt.wantHint {
			t.Errorf("ReleaseFor(%s, %s) = %s, hint %q; want %s, hint %q", tt.system, tt.dos.Format(time.DateOnly), r, LoadHint(r), tt.want, tt.wantHint)
		}
		if !r.Covers(tt.dos) {
			t.Errorf("ReleaseFor(%s, %s) = %s does not cover the date", tt.system, tt.dos, r)
		}
		// The label is one the loaders accept for the same window.
		again, err := NewRelease(r.System, r.Version)
		if err != nil || again != r {
			t.Errorf("NewRelease(%s, %q) = %v, %v; want %v", r.System, r.Version, again, err, r)
		}
	}
	if _, err := ReleaseFor("snomed", ymd(2026, 1, 1)); err == nil {
		t.Error("ReleaseFor(snomed): no error")
	}
	want := "it needs icd10pcs FY2027 (2026-10-01..2027-09-30): load it with `codebridge codes fetch --fy 2027`"
	if got := MissingRelease(ICD10PCS, ymd(2026, 11, 15)); got != want {
		t.Errorf("MissingRelease = %q, want %q", got, want)
	}
}

// TestCoverage checks the coverage report: which systems a day is covered
// for and for how many days (following releases loaded ahead without a
// gap), and for the others the release to load and how.
func TestCoverage(t *testing.T) {
	loaded := []Release{
		mustRelease(t, ICD10CM, "FY2026"), mustRelease(t, ICD10CM, "FY2027"),
		mustRelease(t, ICD10PCS, "FY2026"), mustRelease(t, POAExemptList, "FY2026"),
		mustRelease(t, HCPCS, "2025-Oct"), mustRelease(t, HCPCS, "2026-Jan"),
		mustRelease(t, MUETable, "2026Q2"),
		mustRelease(t, PTPTable, "2026Q4"), mustRelease(t, PTPTable, "2027Q2"), // a gap: 2027Q1 is not loaded
		{System: "snomed", Version: "x", From: ymd(2000, 1, 1), To: ymd(2100, 1, 1)}, // not a site system: ignored
	}
	type row struct {
		System   System
		Covered  bool
		Release  string
		Through  string
		DaysLeft int
		Missing  string
		Hint     string
	}
	summarize := func(cs []SystemCoverage) []row {
		var out []row
		for _, c := range cs {
			r := row{System: c.System, Covered: c.Covered, DaysLeft: c.DaysLeft, Hint: c.Hint}
			if c.Covered {
				r.Release, r.Through = c.Release.Version, c.Through.Format(time.DateOnly)
				if c.Hint != "" || c.Impact != "" || c.Warning(ymd(2026, 1, 1)) != "" {
					t.Errorf("%s covered yet with a hint, impact or warning: %+v", c.System, c)
				}
			} else {
				r.Missing = c.Missing.String()
				if c.Impact == "" {
					t.Errorf("%s: no impact", c.System)
				}
			}
			out = append(out, r)
		}
		return out
	}
	tests := []struct {
		name  string
		today time.Time
		want  []row
	}{
		{"2026-09-30, the last day of FY2026", ymd(2026, 9, 30), []row{
			{ICD10CM, true, "FY2026", "2027-09-30", 366, "", ""},
			{ICD10PCS, true, "FY2026", "2026-09-30", 1, "", ""},
			{POAExemptList, true, "FY2026", "2026-09-30", 1, "", ""},
			{HCPCS, false, "", "", 0, "hcpcs 2026-Jul (2026-07-01..2026-09-30)", "codebridge codes fetch --hcpcs 2026-07"},
			{CPT, false, "", "", 0, "cpt 2026 (2026-01-01..2026-12-31)", "codebridge codes load --system cpt --version 2026 FILE"},
			{MUETable, false, "", "", 0, "mue 2026Q3 (2026-07-01..2026-09-30)", "codebridge codes load --system mue --version 2026Q3 FILE"},
			{PTPTable, false, "", "", 0, "ptp 2026Q3 (2026-07-01..2026-09-30)", "codebridge codes load --system ptp --version 2026Q3 FILE"},
		}},
		{"2026-10-01, the first day of FY2027", ymd(2026, 10, 1), []row{
			{ICD10CM, true, "FY2027", "2027-09-30", 365, "", ""},
			{ICD10PCS, false, "", "", 0, "icd10pcs FY2027 (2026-10-01..2027-09-30)", "codebridge codes fetch --fy 2027"},
			{POAExemptList, false, "", "", 0, "poaexempt FY2027 (2026-10-01..2027-09-30)", "codebridge codes fetch --fy 2027"},
			{HCPCS, false, "", "", 0, "hcpcs 2026-Oct (2026-10-01..2026-12-31)", "codebridge codes fetch --hcpcs 2026-10"},
			{CPT, false, "", "", 0, "cpt 2026 (2026-01-01..2026-12-31)", "codebridge codes load --system cpt --version 2026 FILE"},
			{MUETable, false, "", "", 0, "mue 2026Q4 (2026-10-01..2026-12-31)", "codebridge codes load --system mue --version 2026Q4 FILE"},
			{PTPTable, true, "2026Q4", "2026-12-31", 92, "", ""},
		}},
		{"2025-12-31, the last day of the October 2025 HCPCS quarter, followed by January's", time.Date(2025, 12, 31, 22, 0, 0, 0, time.UTC), []row{
			{ICD10CM, true, "FY2026", "2027-09-30", 639, "", ""},
			{ICD10PCS, true, "FY2026", "2026-09-30", 274, "", ""},
			{POAExemptList, true, "FY2026", "2026-09-30", 274, "", ""},
			{HCPCS, true, "2025-Oct", "2026-03-31", 91, "", ""},
			{CPT, false, "", "", 0, "cpt 2025 (2025-01-01..2025-12-31)", "codebridge codes load --system cpt --version 2025 FILE"},
			{MUETable, false, "", "", 0, "mue 2025Q4 (2025-10-01..2025-12-31)", "codebridge codes load --system mue --version 2025Q4 FILE"},
			{PTPTable, false, "", "", 0, "ptp 2025Q4 (2025-10-01..2025-12-31)", "codebridge codes load --system ptp --version 2025Q4 FILE"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, summarize(Coverage(loaded, tt.today))); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
	c := Coverage(nil, ymd(2026, 12, 8))[1]
	want := "no icd10pcs release covers 2026-12-08: load icd10pcs FY2027 (2026-10-01..2027-09-30) with `codebridge codes fetch --fy 2027`; until then ICD-10-PCS"
	if got := c.Warning(ymd(2026, 12, 8)); !strings.HasPrefix(got, want) {
		t.Errorf("Warning = %q, want it to start %q", got, want)
	}
}

// TestNoReleaseNeverFallsBack shows the in-memory catalog with only the
// FY2026 sets loaded answering ErrNoRelease for a FY2027 date of service:
// last year's set is never applied as if current, though it holds the code.
func TestNoReleaseNeverFallsBack(t *testing.T) {
	c := NewCatalog()
	for _, b := range []struct {
		system System
		name   string
	}{{ICD10PCS, "icd10pcs_order_2026.txt"}, {POAExemptList, "POAexemptCodesFY26.txt"}} {
		if _, err := c.Load(mustRelease(t, b.system, "FY2026"), bundledReader(t, b.name)); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	if e, err := c.Code(ctx, ICD10PCS, "0016070", ymd(2026, 9, 30)); err != nil || e.Release.Version != "FY2026" {
		t.Fatalf("0016070 on 2026-09-30 = %+v, %v; want FY2026", e, err)
	}
	if _, err := c.Code(ctx, ICD10PCS, "0016070", ymd(2026, 11, 15)); !errors.Is(err, ErrNoRelease) {
		t.Errorf("0016070 on 2026-11-15 = %v, want ErrNoRelease", err)
	}
	if _, err := c.POAExempt(ctx, "B90.0", ymd(2026, 11, 15)); !errors.Is(err, ErrNoRelease) {
		t.Errorf("POAExempt B90.0 on 2026-11-15 = %v, want ErrNoRelease", err)
	}
}
