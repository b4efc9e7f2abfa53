package edits

import (
	"context"
	"strings"
	"testing"

	"github.com/codebridge/codebridge/mapping/codes"
)

// fy2026Only is a catalog holding only the FY2026 ICD-10-CM, ICD-10-PCS
// and POA-exempt sets, the October 2025 HCPCS file and the MCE v43.1 lists
// (the bundles of codebridge before FY2027), and no MUE, PTP or CPT release.
// With cm2027 it also holds a FY2027 ICD-10-CM release (the FY2026 file
// stands in for its content), as after the FY2027 ICD-10-CM is loaded and
// before the ICD-10-PCS and POA-exempt files are.
func fy2026Only(t *testing.T, cm2027 bool) *codes.Catalog {
	t.Helper()
	c := codes.NewCatalog()
	want := map[string]bool{"icd10cm_order_2026.txt": true, "icd10pcs_order_2026.txt": true,
		"POAexemptCodesFY26.txt": true, "HCPC2025_OCT_ANWEB.derived.csv": true,
		"mce_v43_1_reference.json": true} // the MCE applies its newest release to later dates: no note
	for _, b := range codes.Bundled() {
		if !want[b.Name] {
			continue
		}
		delete(want, b.Name)
		rc, err := b.Open()
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Load(b.Release, rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if cm2027 && b.Release.System == codes.ICD10CM {
			rel, _ := codes.NewRelease(codes.ICD10CM, "FY2027")
			rc, err := b.Open()
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Load(rel, rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(want) > 0 {
		t.Fatalf("bundles missing: %v", want)
	}
	return c
}

// TestNoReleaseNamesTheMissingRelease checks that NO_RELEASE_FOR_DOS names
// the release that would cover the date of service and the command that
// loads it, for each code set and NCCI table, and that last year's release
// is never applied in its place (the FY2026 codes are not checked on a
// FY2027 date: no DX_/PX_ edit, only the coverage note). The catalogs hold
// no ICD-10-CM Tabular List, so each chart also has its coverage note
// (covers icd10cm-tabular): the Tabular List is supplied by the operator
// (never bundled); its note names the fiscal year's release and the same
// one-line command as the order files (`codes fetch --fy` fetches it too).
func TestNoReleaseNamesTheMissingRelease(t *testing.T) {
	inpatient := stay()
	inpatient.Start, inpatient.End = date(2026, 11, 14), date(2026, 11, 15)
	inpatient.Procedures = append(inpatient.Procedures, Procedure{Code: "0016ZZZ"}) // unknown in FY2026: not checked either
	office := office()
	office.Start = date(2027, 1, 5)
	office.Diagnoses = []Diagnosis{{Code: "J20.9"}}
	office.Lines = []Line{line("J1885", 2), line("G0008", 1)}

	fy26, cm27 := fy2026Only(t, false), fy2026Only(t, true)
	tests := []struct {
		name  string
		lk    codes.Lookup
		chart Chart
		want  map[codes.System]string // Covers -> the message's tail
	}{
		// The diagnoses are not checked at all, so neither is their POA.
		{"inpatient stay discharged 2026-11-15, FY2026 only", fy26, inpatient, map[codes.System]string{
			codes.ICD10CM:  "it needs icd10cm FY2027 (2026-10-01..2027-09-30): load it with `codebridge codes fetch --fy 2027`",
			codes.ICD10PCS: "it needs icd10pcs FY2027 (2026-10-01..2027-09-30): load it with `codebridge codes fetch --fy 2027`",
			// The Tabular List of the year comes with the same one line.
			codes.ICD10CMTabular: "it needs icd10cm-tabular FY2027 (2026-10-01..2027-09-30): load it with `codebridge codes fetch --fy 2027`",
		}},
		{"inpatient stay discharged 2026-11-15, FY2027 ICD-10-CM loaded", cm27, inpatient, map[codes.System]string{
			codes.ICD10PCS:       "it needs icd10pcs FY2027 (2026-10-01..2027-09-30): load it with `codebridge codes fetch --fy 2027`",
			codes.POAExemptList:  "it needs poaexempt FY2027 (2026-10-01..2027-09-30): load it with `codebridge codes fetch --fy 2027`",
			codes.ICD10CMTabular: "it needs icd10cm-tabular FY2027 (2026-10-01..2027-09-30): load it with `codebridge codes fetch --fy 2027`",
		}},
		{"office visit 2027-01-05", fy26, office, map[codes.System]string{
			codes.ICD10CM:        "it needs icd10cm FY2027 (2026-10-01..2027-09-30): load it with `codebridge codes fetch --fy 2027`",
			codes.HCPCS:          "it needs hcpcs 2027-Jan (2027-01-01..2027-03-31): load it with `codebridge codes fetch --hcpcs 2027-01`",
			codes.MUETable:       "it needs mue 2027Q1 (2027-01-01..2027-03-31): load it with `codebridge codes load --system mue --version 2027Q1 FILE`",
			codes.PTPTable:       "it needs ptp 2027Q1 (2027-01-01..2027-03-31): load it with `codebridge codes load --system ptp --version 2027Q1 FILE`",
			codes.ICD10CMTabular: "it needs icd10cm-tabular FY2027 (2026-10-01..2027-09-30): load it with `codebridge codes fetch --fy 2027`",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Check(context.Background(), tt.lk, tt.chart)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[codes.System]bool{}
			for _, ed := range got {
				if ed.Code != NoReleaseForDOS {
					if ed.Severity == Error {
						t.Errorf("%s %s on a date no release covers: %s", ed.Code, ed.Target, ed.Message)
					}
					continue
				}
				seen[ed.Covers] = true
				if blocks := ed.Covers == codes.ICD10CM || ed.Covers == codes.ICD10PCS; blocks != (ed.Severity == Error) {
					t.Errorf("NO_RELEASE_FOR_DOS for %s is %s: want an error for icd10cm and icd10pcs (no claim without them), else a warning", ed.Covers, ed.Severity)
				}
				want, ok := tt.want[ed.Covers]
				if !ok {
					t.Errorf("unexpected NO_RELEASE_FOR_DOS for %s: %s", ed.Covers, ed.Message)
					continue
				}
				on := "for the date of service " + day(tt.chart.codeSetDate())
				if !strings.HasSuffix(ed.Message, want) || !strings.Contains(ed.Message, on) {
					t.Errorf("%s message %q, want it to end %q", ed.Covers, ed.Message, want)
				}
			}
			for sys := range tt.want {
				if !seen[sys] {
					t.Errorf("no NO_RELEASE_FOR_DOS for %s in %v", sys, got)
				}
			}
		})
	}
}
