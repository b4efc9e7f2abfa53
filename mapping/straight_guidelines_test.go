package mapping

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping/codes"
	"github.com/codebridge/codebridge/mapping/edits"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// TestStraightThroughGuidelines: the straight-through coder never bills a
// chart with a guideline sequencing edit (mapping/edits/guidelines.go),
// from the EHR's ranked diagnoses through the edit engine on the bundled
// FY2026 code sets to the policy: errors always stop the chart, and the
// guideline warning a person must clear stops it even with every
// allowable warning on the allowlist. The same codes in the order the
// guideline asks for are coded, with every rule set of #19 in force: the
// bundled MCE lists and, for the Tabular List instructions (never bundled),
// the hand-made Tabular List fixture, so that even the policy with an empty
// allowlist codes them (without a Tabular List the NO_RELEASE_FOR_DOS note
// for icd10cm-tabular would stop every chart: TestTabularCoverage).
func TestStraightThroughGuidelines(t *testing.T) {
	cat := codes.NewCatalog()
	if err := codes.LoadBundled(cat); err != nil {
		t.Fatal(err)
	}
	tab, err := codes.NewRelease(codes.ICD10CMTabular, "FY2026")
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join("..", "testdata", "codesets", "icd10cm_tabular_fixture.xml"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = cat.Load(tab, f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 3, 10, 14, 30, 0, 0, time.UTC)
	chart := func(dx ...string) *workitem.Chart {
		c := &workitem.Chart{
			PatientSummary: &workitem.PatientView{Reference: "Patient/1", Gender: "female", BirthDate: "1970-01-01"},
			Encounter: workitem.EncounterView{Reference: "Encounter/1", Status: "finished", Class: "AMB",
				Start: &start, StartAsSent: "2026-03-10T14:30:00Z"},
			Procedures: []workitem.DocumentedItem{{Reference: "Procedure/1", Status: "completed",
				Codings: []workitem.Coding{{System: fhir.SystemCPT, Code: "99213"}}}},
		}
		for i, code := range dx {
			ref := "Condition/" + string(rune('a'+i))
			c.Conditions = append(c.Conditions, workitem.DocumentedItem{Reference: ref, Category: []string{"encounter-diagnosis"},
				Status: "active", VerificationStatus: "confirmed", Codings: []workitem.Coding{{System: fhir.SystemICD10CM, Code: code}}})
			c.Encounter.Diagnoses = append(c.Encounter.Diagnoses, workitem.EncounterDiagnosis{Condition: ref, Rank: i + 1})
		}
		c.SuggestedCodes = suggest(c)
		return c
	}
	everyWarning := workitem.StraightThroughPolicy{AllowWarnings: append(edits.WarningCodes(), edits.AllowableCoverageNotes()...)}
	tests := []struct {
		name string
		dx   []string
		want string // the guideline edit that stops the chart; "" when coded
	}{
		{"external cause first-listed", []string{"W19.XXXA", "S52.501A"}, edits.GLExternalCauseFirst},
		{"external cause after the injury", []string{"S52.501A", "W19.XXXA"}, ""},
		{"first-listed-only Z code second", []string{"C50.911", "Z51.11"}, edits.GLZFirstListedOnly},
		{"first-listed-only Z code first", []string{"Z51.11", "C50.911"}, ""},
		{"sequela code first-listed", []string{"T21.20XS", "L90.5"}, edits.GLSequelaFirst},
		{"nature of the sequela first", []string{"L90.5", "T21.20XS"}, ""},
		{"sequela after a current injury only", []string{"S72.001A", "S52.501S"}, edits.GLSequelaNatureUnclear},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := chart(tt.dx...)
			a, unproposed := AutoAssignment(c)
			if len(unproposed) != 0 {
				t.Fatalf("AutoAssignment reasons %v: the chart is not complete", unproposed)
			}
			ec, err := EditChart(c, a, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			found, err := edits.Check(context.Background(), cat, ec)
			if err != nil {
				t.Fatal(err)
			}
			es := DomainEdits(found)
			for _, p := range []workitem.StraightThroughPolicy{{}, everyWarning} {
				d := p.Decide(c, a, nil, es)
				var reasons []string
				for _, r := range d.Reasons {
					reasons = append(reasons, r.Code)
				}
				if tt.want == "" {
					if d.Decision != workitem.AutoCoded {
						t.Errorf("allow %v: decision %s %v, want coded", p.AllowWarnings, d.Decision, reasons)
					}
					continue
				}
				if d.Decision != workitem.AutoSkipped || !slices.Contains(reasons, tt.want) {
					t.Errorf("allow %v: decision %s %v, want skipped for %s", p.AllowWarnings, d.Decision, reasons, tt.want)
				}
			}
			if tt.want != "" {
				i := slices.IndexFunc(es, func(e workitem.Edit) bool { return e.Code == tt.want })
				if i < 0 || es[i].Rule == "" || es[i].RuleText == "" {
					t.Errorf("edits %+v: want %s with its rule and rule text", es, tt.want)
				}
			}
		})
	}
}
