package mapping_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping"
	"github.com/codebridge/codebridge/mapping/workitem"
)

const bundlesDir = "../testdata/bundles"

// scenarioNow is the fixed clock the scenario priorities are computed at.
var scenarioNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// planScenario parses and plans a transaction Bundle from testdata/bundles
// with deterministic ids ("id-1", "id-2"...) and returns its prepared writes
// and the entries it skipped.
func planScenario(tb testing.TB, file string) (ws []workitem.ResourceWrite, skipped []string) {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join(bundlesDir, file))
	if err != nil {
		tb.Fatal(err)
	}
	return planBytes(tb, file, raw)
}

// planBytes is planScenario over a Bundle given as bytes.
func planBytes(tb testing.TB, file string, raw []byte) (ws []workitem.ResourceWrite, skipped []string) {
	tb.Helper()
	p, err := fhir.NewParser()
	if err != nil {
		tb.Fatal(err)
	}
	b, err := p.ParseBundle(raw)
	if err != nil {
		tb.Fatalf("ParseBundle(%s): %v", file, err)
	}
	n := 0
	plans, err := mapping.PlanBundle(b, func() string { n++; return fmt.Sprintf("id-%d", n) })
	if err != nil {
		tb.Fatalf("PlanBundle(%s): %v", file, err)
	}
	for _, pl := range plans {
		switch {
		case pl.Err != nil:
			tb.Fatalf("%s entry %d: %v", file, pl.Index, pl.Err)
		case pl.Write == nil:
			skipped = append(skipped, pl.Skipped)
		default:
			ws = append(ws, *pl.Write)
		}
	}
	return ws, skipped
}

// chartOf builds the work item of the single Encounter among ws the way the
// store gathers its sources: the Encounter, what points to it, its Patient
// and the Patient's Coverages.
func chartOf(tb testing.TB, ws []workitem.ResourceWrite) mapping.Derived {
	tb.Helper()
	var enc *workitem.ResourceWrite
	for i := range ws {
		if ws[i].Type == "Encounter" {
			enc = &ws[i]
		}
	}
	if enc == nil {
		tb.Fatal("no Encounter in the bundle")
	}
	var srcs []mapping.Source
	for _, w := range ws {
		switch {
		case w.Type == "Encounter" && w.ID == enc.ID,
			w.EncounterID == enc.ID,
			w.Type == "Patient" && w.ID == enc.PatientID,
			w.Type == "Coverage" && w.PatientID == enc.PatientID:
			srcs = append(srcs, mapping.Source{Type: w.Type, ID: w.ID, Version: 1, Summary: w.Summary})
		}
	}
	d, err := mapping.BuildChart(srcs, scenarioNow)
	if err != nil {
		tb.Fatalf("BuildChart: %v", err)
	}
	return d
}

// suggested is a compact view of a suggested code for comparisons.
type suggested struct{ System, Code, Kind string }

func TestScenarioCharts(t *testing.T) {
	tests := []struct {
		file          string
		class         string
		priority      int
		suggested     []suggested
		conditions    []string // ICD-10-CM or, failing that, SNOMED code of each documented Condition, in chart order
		procedures    []string // first code of each documented Procedure, in chart order
		skipped       int
		documents     int
		coverage      int
		snomedOnlyDx  bool // a SNOMED-only Condition is documented but not suggested
		excludedDxICD string
	}{
		{
			file: "ed-visit.json", class: "EMER",
			// 200 for ED, +10 per full day since discharge (2025-12-30T03:40Z).
			priority: 210,
			suggested: []suggested{
				{"icd10cm", "R07.9", "diagnosis"},
				{"cpt", "99284", "procedure"},
			},
			// The entered-in-error I21.9 stays on the chart as context
			// (issue #17), never suggested.
			conditions:    []string{"R07.9", "I21.9", "38341003"},
			procedures:    []string{"99284", "29303009"},
			skipped:       1, // the Observation
			snomedOnlyDx:  true,
			excludedDxICD: "I21.9", // entered-in-error
		},
		{
			file: "inpatient-stay.json", class: "IMP",
			// 300 for inpatient, +70 for 7 full days since discharge (2025-12-24T11:00Z).
			priority: 370,
			suggested: []suggested{
				{"icd10cm", "K35.80", "diagnosis"},
				{"icd10cm", "E11.9", "diagnosis"},
				{"icd10cm", "N39.0", "diagnosis"},
				{"icd10cm", "R10.31", "diagnosis"},
				{"icd10pcs", "0DTJ4ZZ", "procedure"},
			},
			conditions: []string{"K35.80", "E11.9", "N39.0", "R10.31"},
			procedures: []string{"0DTJ4ZZ"},
			documents:  1,
			coverage:   1,
		},
		{
			file: "office-visit.json", class: "AMB",
			// 100 for an office visit discharged less than a day before now.
			priority: 100,
			suggested: []suggested{
				{"icd10cm", "I10", "diagnosis"},
				{"cpt", "99213", "procedure"},
				{"hcpcs", "G2211", "procedure"},
			},
			conditions: []string{"I10"},
			procedures: []string{"99213", "G2211"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			ws, skipped := planScenario(t, tt.file)
			if len(skipped) != tt.skipped {
				t.Errorf("skipped %q, want %d entries", skipped, tt.skipped)
			}
			d := chartOf(t, ws)
			if d.Status != workitem.Ready {
				t.Errorf("status = %s, want %s", d.Status, workitem.Ready)
			}
			if d.Class != tt.class || d.Chart.Encounter.Class != tt.class {
				t.Errorf("class = %s (chart %s), want %s", d.Class, d.Chart.Encounter.Class, tt.class)
			}
			if d.Priority != tt.priority {
				t.Errorf("priority = %d, want %d", d.Priority, tt.priority)
			}
			var got []suggested
			for _, s := range d.Chart.SuggestedCodes {
				got = append(got, suggested{s.System, s.Code, s.Kind})
				if s.Source == "" {
					t.Errorf("suggested %s %s has no source", s.System, s.Code)
				}
			}
			if diff := cmp.Diff(tt.suggested, got); diff != "" {
				t.Errorf("suggested codes mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.conditions, itemCodes(d.Chart.Conditions, fhir.SystemICD10CM)); diff != "" {
				t.Errorf("conditions mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.procedures, itemCodes(d.Chart.Procedures, "")); diff != "" {
				t.Errorf("procedures mismatch (-want +got):\n%s", diff)
			}
			if len(d.Chart.Documents) != tt.documents || len(d.Chart.Coverage) != tt.coverage {
				t.Errorf("documents %d coverage %d, want %d and %d", len(d.Chart.Documents), len(d.Chart.Coverage), tt.documents, tt.coverage)
			}
			if d.Chart.PatientSummary == nil || d.PatientID == "" {
				t.Errorf("patient missing: %+v %q", d.Chart.PatientSummary, d.PatientID)
			}
			// SNOMED codings stay on the documented items but are never suggested.
			snomedDocumented := false
			for _, item := range append(append([]workitem.DocumentedItem{}, d.Chart.Conditions...), d.Chart.Procedures...) {
				for _, c := range item.Codings {
					snomedDocumented = snomedDocumented || c.System == fhir.SystemSNOMED
				}
			}
			if !snomedDocumented {
				t.Error("no SNOMED coding kept on the documented items")
			}
			for _, s := range d.Chart.SuggestedCodes {
				if s.System != "icd10cm" && s.System != "cpt" && s.System != "hcpcs" && s.System != "icd10pcs" {
					t.Errorf("suggested a %s code %s", s.System, s.Code)
				}
			}
			if tt.excludedDxICD != "" {
				for _, s := range d.Chart.SuggestedCodes {
					if s.Code == tt.excludedDxICD {
						t.Errorf("entered-in-error Condition %s suggested", s.Code)
					}
				}
				if len(ws) == 0 || !containsCode(ws, tt.excludedDxICD) {
					t.Errorf("entered-in-error Condition %s should still be stored", tt.excludedDxICD)
				}
				for _, c := range d.Chart.Conditions {
					if slices.ContainsFunc(c.Codings, func(cd workitem.Coding) bool { return cd.Code == tt.excludedDxICD }) && c.VerificationStatus != "entered-in-error" {
						t.Errorf("Condition %s shown as %q, want marked entered-in-error", tt.excludedDxICD, c.VerificationStatus)
					}
				}
			}
		})
	}
}

// TestScenarioPriorityOrder checks the documented rule on the scenarios:
// with the same discharge date, inpatient outranks ED, which outranks office.
func TestScenarioPriorityOrder(t *testing.T) {
	end := scenarioNow.Add(-2 * time.Hour)
	imp := mapping.Priority("IMP", nil, &end, scenarioNow)
	ed := mapping.Priority("EMER", nil, &end, scenarioNow)
	amb := mapping.Priority("AMB", nil, &end, scenarioNow)
	if !(imp > ed && ed > amb) {
		t.Fatalf("priorities IMP %d, EMER %d, AMB %d: want inpatient > ED > office", imp, ed, amb)
	}
}

// TestScenarioInpatientDiagnosisOrder checks that Encounter.diagnosis rank
// and use (AD admission, DD discharge) reach the chart, and that the onset
// dates a coder needs for present-on-admission are kept.
func TestScenarioInpatientDiagnosisOrder(t *testing.T) {
	ws, _ := planScenario(t, "inpatient-stay.json")
	d := chartOf(t, ws)
	type dx struct {
		Code, Use, Date string
		Rank            int
	}
	var got []dx
	for _, c := range d.Chart.Conditions {
		got = append(got, dx{itemCodes([]workitem.DocumentedItem{c}, fhir.SystemICD10CM)[0], c.Use, c.Date, c.Rank})
	}
	want := []dx{
		{"K35.80", "DD", "2025-12-19T18:00:00Z", 1}, // POA: onset before admission
		{"E11.9", "DD", "2015-03-01T00:00:00Z", 2},  // POA: chronic
		{"N39.0", "DD", "2025-12-22T09:00:00Z", 3},  // not POA: onset during the stay
		{"R10.31", "AD", "2025-12-19T18:00:00Z", 0}, // admission diagnosis, unranked
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("inpatient diagnoses mismatch (-want +got):\n%s", diff)
	}
	if d.ServiceStart == nil || d.ServiceEnd == nil || !d.ServiceEnd.After(*d.ServiceStart) {
		t.Errorf("admit/discharge = %v / %v", d.ServiceStart, d.ServiceEnd)
	}
}

// itemCodes returns, per item, its coding in system (or its first coding
// when system is "" or absent).
func itemCodes(items []workitem.DocumentedItem, system string) []string {
	var out []string
	for _, it := range items {
		code := ""
		for _, c := range it.Codings {
			if system != "" && c.System == system {
				code = c.Code
				break
			}
		}
		if code == "" && len(it.Codings) > 0 {
			code = it.Codings[0].Code
		}
		out = append(out, code)
	}
	return out
}

// containsCode reports whether any write's raw JSON carries code.
func containsCode(ws []workitem.ResourceWrite, code string) bool {
	for _, w := range ws {
		if w.Type == "Condition" && bytesContains(w.Raw, `"`+code+`"`) {
			return true
		}
	}
	return false
}

func bytesContains(b []byte, s string) bool { return strings.Contains(string(b), s) }
