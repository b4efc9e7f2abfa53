package codes

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestWindow(t *testing.T) {
	d := func(s string) time.Time { t, _ := time.Parse(time.DateOnly, s); return t }
	tests := []struct {
		system   System
		version  string
		from, to string
		wantErr  bool
	}{
		{ICD10CM, "FY2026", "2025-10-01", "2026-09-30", false},
		{ICD10PCS, "2026", "2025-10-01", "2026-09-30", false},
		{POAExemptList, "FY26", "2025-10-01", "2026-09-30", false},
		{HCPCS, "2025-Oct", "2025-10-01", "2025-12-31", false},
		{HCPCS, "2025-10", "2025-10-01", "2025-12-31", false},
		{MUETable, "2026Q2", "2026-04-01", "2026-06-30", false},
		{PTPTable, "2026-Q1", "2026-01-01", "2026-03-31", false},
		{HCPCS, "OCT2025", "2025-10-01", "2025-12-31", false},
		{CPT, "2026", "2026-01-01", "2026-12-31", false},
		{CPT, "2026Q3", "2026-07-01", "2026-09-30", false},
		{HCPCS, "2025-Nov", "", "", true},
		{ICD10CM, "2026Q2", "", "", true},
		{System("loinc"), "2026", "", "", true},
	}
	for _, tt := range tests {
		from, to, err := Window(tt.system, tt.version)
		if (err != nil) != tt.wantErr {
			t.Errorf("Window(%s, %q) error = %v, want error %v", tt.system, tt.version, err, tt.wantErr)
			continue
		}
		if tt.wantErr {
			continue
		}
		if diff := cmp.Diff([]time.Time{d(tt.from), d(tt.to)}, []time.Time{from, to}); diff != "" {
			t.Errorf("Window(%s, %q) mismatch (-want +got):\n%s", tt.system, tt.version, diff)
		}
	}
}

func TestReleaseCovers(t *testing.T) {
	rel, err := NewRelease(ICD10CM, "FY2026")
	if err != nil {
		t.Fatal(err)
	}
	ny, _ := time.LoadLocation("America/New_York")
	tests := []struct {
		dos  time.Time
		want bool
	}{
		{time.Date(2025, 9, 30, 23, 59, 0, 0, time.UTC), false},
		{time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC), true},
		{time.Date(2026, 9, 30, 23, 30, 0, 0, ny), true},
		{time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), false},
	}
	for _, tt := range tests {
		if got := rel.Covers(tt.dos); got != tt.want {
			t.Errorf("Covers(%v) = %v, want %v", tt.dos, got, tt.want)
		}
	}
}

func TestNormalizeDisplay(t *testing.T) {
	tests := []struct {
		system             System
		in, store, display string
	}{
		{ICD10CM, "J209", "J209", "J20.9"},
		{ICD10CM, " j20.9 ", "J209", "J20.9"},
		{ICD10CM, "J20", "J20", "J20"},
		{ICD10CM, "S72001A", "S72001A", "S72.001A"},
		{ICD10PCS, "0016070", "0016070", "0016070"},
		{HCPCS, "   A1", "A1", "A1"},
		{CPT, "0002m", "0002M", "0002M"},
	}
	for _, tt := range tests {
		got := []string{Normalize(tt.system, tt.in), Display(tt.system, tt.in)}
		if diff := cmp.Diff([]string{tt.store, tt.display}, got); diff != "" {
			t.Errorf("%s %q mismatch (-want +got):\n%s", tt.system, tt.in, diff)
		}
	}
}

func TestFormats(t *testing.T) {
	tests := []struct {
		code  string
		cat   CPTCategory
		cpt   bool
		hcpcs bool
	}{
		{"99213", CPTCategoryI, true, false},
		{"0001F", CPTCategoryII, true, false},
		{"0054T", CPTCategoryIII, true, false},
		{"0008U", CPTPLA, true, false},
		{"0002M", CPTMAAA, true, false},
		{"J1885", "", false, true},
		{"9921", "", false, false},
		{"992134", "", false, false},
		{"0001X", "", false, false},
		{"J209", "", false, false},
	}
	for _, tt := range tests {
		cat, ok := CPTFormat(tt.code)
		if cat != tt.cat || ok != tt.cpt || HCPCSFormat(tt.code) != tt.hcpcs {
			t.Errorf("%s: CPTFormat = %q, %v; HCPCSFormat = %v; want %q, %v, %v",
				tt.code, cat, ok, HCPCSFormat(tt.code), tt.cat, tt.cpt, tt.hcpcs)
		}
	}
	for m, want := range map[string]bool{"59": true, "XU": true, "F1": true, "5": false, "x1": false, "595": false} {
		if got := ModifierFormat(m); got != want {
			t.Errorf("ModifierFormat(%q) = %v, want %v", m, got, want)
		}
	}
}
