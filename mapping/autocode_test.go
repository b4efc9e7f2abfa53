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
		c := &workitem.Chart{Encounter: workitem.EncounterView{Class: class, Status: "finished"}, Conditions: conds, Procedures: procs}
		for i, d := range conds { // ranked in the order given
			c.Encounter.Diagnoses = append(c.Encounter.Diagnoses, workitem.EncounterDiagnosis{Condition: d.Reference, Rank: i + 1})
		}
		c.SuggestedCodes = suggest(c)
		return c
	}
	unranked := func(c *workitem.Chart) *workitem.Chart {
		c.Encounter.Diagnoses = nil
		return c
	}
	rankOnly := func(c *workitem.Chart, ref string, rank int) *workitem.Chart {
		c.Encounter.Diagnoses = []workitem.EncounterDiagnosis{{Condition: ref, Rank: rank}}
		return c
	}
	firstOnly := func(c *workitem.Chart) *workitem.Chart {
		c.Encounter.Diagnoses = c.Encounter.Diagnoses[:1]
		return c
	}
	with := func(d workitem.DocumentedItem, f func(*workitem.DocumentedItem)) workitem.DocumentedItem {
		f(&d)
		return d
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
		reason []string // reason codes
	}{
		{"clean office visit", chart("AMB", []workitem.DocumentedItem{dx("Condition/1", icd("J20.9"), snomed), dx("Condition/2", icd("I10"))},
			workitem.DocumentedItem{Reference: "Procedure/1", Codings: []workitem.Coding{cpt}}),
			workitem.Assignment{Diagnoses: []workitem.AssignedDiagnosis{{Code: "J20.9"}, {Code: "I10"}},
				Lines: []workitem.AssignedLine{{Code: "99213", Units: 1, Diagnoses: []int{1, 2}}}}, nil},
		{"snomed-only diagnosis", chart("AMB", []workitem.DocumentedItem{dx("Condition/1", snomed)}), workitem.Assignment{}, []string{workitem.ReasonDxWithoutICD10CM}},
		{"procedure without CPT", chart("AMB", []workitem.DocumentedItem{dx("Condition/1", icd("J20.9"))},
			workitem.DocumentedItem{Reference: "Procedure/9", Codings: []workitem.Coding{snomed}}), workitem.Assignment{}, []string{workitem.ReasonPxWithoutCPT}},
		{"inpatient", chart("IMP", []workitem.DocumentedItem{dx("Condition/1", icd("J20.9"))}), workitem.Assignment{}, []string{workitem.ReasonInpatient}},
		{"nothing documented", chart("AMB", nil), workitem.Assignment{}, []string{workitem.ReasonNoConditions}},
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
				}}, nil},
		// The order never comes from ids or arrival: unranked diagnoses go by code.
		{"unranked diagnoses by code, not id", unranked(chart("AMB", []workitem.DocumentedItem{dx("Condition/1", icd("J20.9")), dx("Condition/2", icd("I10"))},
			workitem.DocumentedItem{Reference: "Procedure/1", Codings: []workitem.Coding{cpt}})),
			workitem.Assignment{Diagnoses: []workitem.AssignedDiagnosis{{Code: "I10"}, {Code: "J20.9"}},
				Lines: []workitem.AssignedLine{{Code: "99213", Units: 1, Diagnoses: []int{1, 2}}}}, nil},
		{"rank 2 before an unranked diagnosis", rankOnly(chart("AMB", []workitem.DocumentedItem{dx("Condition/1", icd("A09")), dx("Condition/2", icd("I10"))},
			workitem.DocumentedItem{Reference: "Procedure/1", Codings: []workitem.Coding{cpt}}), "Condition/2", 2),
			workitem.Assignment{Diagnoses: []workitem.AssignedDiagnosis{{Code: "I10"}, {Code: "A09"}},
				Lines: []workitem.AssignedLine{{Code: "99213", Units: 1, Diagnoses: []int{1, 2}}}}, nil},
		// Refuted and entered-in-error Conditions are never coded, and
		// problem-list entries, even confirmed and active, are not coded
		// straight through (IV.J): the charge's pointers to them are dropped.
		{"refuted and resolved left out", withCharges(firstOnly(chart("AMB", []workitem.DocumentedItem{dx("Condition/1", icd("J20.9")),
			with(dx("Condition/2", icd("J18.9")), func(d *workitem.DocumentedItem) { d.Category, d.VerificationStatus = nil, "refuted" }),
			{Reference: "Condition/3", Category: []string{"problem-list-item"}, Status: "resolved", VerificationStatus: "confirmed", Codings: []workitem.Coding{icd("E11.9")}},
			{Reference: "Condition/4", Category: []string{"problem-list-item"}, Status: "active", VerificationStatus: "confirmed", Codings: []workitem.Coding{icd("I10")}}})),
			workitem.Charge{Reference: "ChargeItem/1", Status: "billable", Codings: []workitem.Coding{cpt}, Quantity: 1,
				ServiceDate: "2026-03-10", Reasons: []workitem.Coding{icd("I10"), icd("E11.9")}}),
			workitem.Assignment{Diagnoses: []workitem.AssignedDiagnosis{{Code: "J20.9"}},
				Lines: []workitem.AssignedLine{{Code: "99213", Units: 1, Diagnoses: []int{}, ServiceDate: "2026-03-10"}}}, nil},
		{"confirmed active problem-list entry left out", withCharges(firstOnly(chart("AMB", []workitem.DocumentedItem{dx("Condition/1", icd("J20.9")),
			{Reference: "Condition/4", Category: []string{"problem-list-item"}, Status: "active", VerificationStatus: "confirmed", Codings: []workitem.Coding{icd("I10")}}})),
			workitem.Charge{Reference: "ChargeItem/1", Status: "billable", Codings: []workitem.Coding{cpt}, Quantity: 1,
				ServiceDate: "2026-03-10", Reasons: []workitem.Coding{icd("J20.9"), icd("I10")}}),
			workitem.Assignment{Diagnoses: []workitem.AssignedDiagnosis{{Code: "J20.9"}},
				Lines: []workitem.AssignedLine{{Code: "99213", Units: 1, Diagnoses: []int{1}, ServiceDate: "2026-03-10"}}}, nil},
		{"problem-list entries only: nothing to code", unranked(chart("AMB", []workitem.DocumentedItem{
			{Reference: "Condition/4", Category: []string{"problem-list-item"}, Status: "active", VerificationStatus: "confirmed", Codings: []workitem.Coding{icd("I10")}}})),
			workitem.Assignment{}, []string{workitem.ReasonNoEncounterDx}},
		{"charge without CPT", withCharges(chart("AMB", []workitem.DocumentedItem{dx("Condition/1", icd("J20.9"))}),
			workitem.Charge{Reference: "ChargeItem/7", Status: "billable", Codings: []workitem.Coding{{System: "urn:example:cdm", Code: "300101"}}}),
			workitem.Assignment{}, []string{workitem.ReasonPxWithoutCPT}},
	}
	for _, tt := range tests {
		got, reasons := AutoAssignment(tt.chart)
		var codes []string
		for _, r := range reasons {
			codes = append(codes, r.Code)
		}
		if diff := cmp.Diff(tt.reason, codes); diff != "" {
			t.Errorf("%s: reasons mismatch (-want +got):\n%s", tt.name, diff)
			continue
		}
		if len(reasons) == 0 {
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("%s: mismatch (-want +got):\n%s", tt.name, diff)
			}
		}
	}
}
