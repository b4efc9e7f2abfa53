package mapping

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping/workitem"
)

func TestAutoAssignment(t *testing.T) {
	dx := func(ref string, cs ...workitem.Coding) workitem.DocumentedItem {
		return workitem.DocumentedItem{Reference: ref, Category: []string{"encounter-diagnosis"}, Codings: cs}
	}
	icd := func(code string) workitem.Coding { return workitem.Coding{System: fhir.SystemICD10CM, Code: code} }
	snomed := workitem.Coding{System: fhir.SystemSNOMED, Code: "10509002"}
	cpt := workitem.Coding{System: fhir.SystemCPT, Code: "99213"}
	chart := func(class string, conds []workitem.DocumentedItem, procs ...workitem.DocumentedItem) *workitem.Chart {
		c := &workitem.Chart{Encounter: workitem.EncounterView{Class: class}, Conditions: conds, Procedures: procs}
		c.SuggestedCodes = suggest(c)
		return c
	}
	withCharges := func(c *workitem.Chart, charges ...workitem.Charge) *workitem.Chart {
		c.Charges = charges
		c.SuggestedCodes = suggest(c)
		return c
	}
	tests := []struct {
		name   string
		chart  *workitem.Chart
		want   workitem.Assignment
		reason string
	}{
		{"clean office visit", chart("AMB", []workitem.DocumentedItem{dx("Condition/1", icd("J20.9"), snomed), dx("Condition/2", icd("I10"))},
			workitem.DocumentedItem{Reference: "Procedure/1", Codings: []workitem.Coding{cpt}}),
			workitem.Assignment{Diagnoses: []workitem.AssignedDiagnosis{{Code: "J20.9"}, {Code: "I10"}},
				Lines: []workitem.AssignedLine{{Code: "99213", Units: 1, Diagnoses: []int{1, 2}}}}, ""},
		{"snomed-only diagnosis", chart("AMB", []workitem.DocumentedItem{dx("Condition/1", snomed)}), workitem.Assignment{}, "Condition/1 has no ICD-10-CM code"},
		{"procedure without CPT", chart("AMB", []workitem.DocumentedItem{dx("Condition/1", icd("J20.9"))},
			workitem.DocumentedItem{Reference: "Procedure/9", Codings: []workitem.Coding{snomed}}), workitem.Assignment{}, "Procedure/9 has no CPT or HCPCS code"},
		{"inpatient", chart("IMP", []workitem.DocumentedItem{dx("Condition/1", icd("J20.9"))}), workitem.Assignment{}, "inpatient stays need POA indicators"},
		{"nothing documented", chart("AMB", nil), workitem.Assignment{}, "no documented conditions"},
		{"charge units, modifiers and pointers", withCharges(chart("AMB", []workitem.DocumentedItem{dx("Condition/1", icd("J20.9")), dx("Condition/2", icd("I10"))},
			workitem.DocumentedItem{Reference: "Procedure/1", Codings: []workitem.Coding{cpt}}),
			workitem.Charge{Reference: "ChargeItem/1", Status: "billable", Codings: []workitem.Coding{cpt}, Modifiers: []string{"95"}, Quantity: 1,
				ServiceDate: "2026-03-10", Reasons: []workitem.Coding{icd("I10")}},
			workitem.Charge{Reference: "ChargeItem/2", Codings: []workitem.Coding{{System: fhir.SystemHCPCS, Code: "g2211"}}},
			workitem.Charge{Reference: "ChargeItem/3", Status: "not-billable", Codings: []workitem.Coding{snomed}}),
			workitem.Assignment{Diagnoses: []workitem.AssignedDiagnosis{{Code: "J20.9"}, {Code: "I10"}},
				Lines: []workitem.AssignedLine{
					{Code: "99213", Modifiers: []string{"95"}, Units: 1, Diagnoses: []int{2}, ServiceDate: "2026-03-10"},
					{Code: "G2211", Units: 1, Diagnoses: []int{1, 2}},
				}}, ""},
		{"charge without CPT", withCharges(chart("AMB", []workitem.DocumentedItem{dx("Condition/1", icd("J20.9"))}),
			workitem.Charge{Reference: "ChargeItem/7", Status: "billable", Codings: []workitem.Coding{{System: "urn:example:cdm", Code: "300101"}}}),
			workitem.Assignment{}, "ChargeItem/7 has no CPT or HCPCS code"},
	}
	for _, tt := range tests {
		got, reason := AutoAssignment(tt.chart)
		if reason != tt.reason {
			t.Errorf("%s: reason %q, want %q", tt.name, reason, tt.reason)
			continue
		}
		if reason == "" {
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("%s: mismatch (-want +got):\n%s", tt.name, diff)
			}
		}
	}
}
