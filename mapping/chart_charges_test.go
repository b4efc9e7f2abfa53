package mapping_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// chargeEntry is a PUT entry of a ChargeItem on Encounter/e1 for Patient/p1.
func chargeEntry(id, status, system, code, date string, qty float64, mods []string, reasons ...string) string {
	var ext []string
	for _, m := range mods {
		ext = append(ext, fmt.Sprintf(`{"url":%q,"valueCoding":{"system":%q,"code":%q}}`, fhir.ExtensionChargeItemModifier, fhir.SystemCPT, m))
	}
	var rs []string
	for _, r := range reasons {
		rs = append(rs, fmt.Sprintf(`{"coding":[{"system":%q,"code":%q}]}`, fhir.SystemICD10CM, r))
	}
	body := fmt.Sprintf(`"resourceType":"ChargeItem","id":%q,"status":%q,"code":{"coding":[{"system":%q,"code":%q}]},`+
		`"subject":{"reference":"Patient/p1"},"context":{"reference":"Encounter/e1"},"occurrenceDateTime":%q`, id, status, system, code, date)
	if qty != 0 {
		body += fmt.Sprintf(`,"quantity":{"value":%g}`, qty)
	}
	if len(ext) > 0 {
		body += `,"extension":[` + strings.Join(ext, ",") + `]`
	}
	if len(rs) > 0 {
		body += `,"reason":[` + strings.Join(rs, ",") + `]`
	}
	return fmt.Sprintf(`{"resource":{%s},"request":{"method":"PUT","url":"ChargeItem/%s"}}`, body, id)
}

// chargeBundle is an office visit (two diagnoses, one documented
// procedure) billed through ChargeItems: a 99213-25 charge that also bills
// the documented Procedure, two nebulizer charges on one day, a drug charge
// and its credit, a therapy charge on the next day (late evening, UTC-5), a
// not-billable charge and one entered in error.
func chargeBundle() []byte {
	cond := func(id, code string) string {
		return fmt.Sprintf(`{"resource":{"resourceType":"Condition","id":%q,"category":[{"coding":[{"system":%q,"code":"encounter-diagnosis"}]}],`+
			`"code":{"coding":[{"system":%q,"code":%q}]},"subject":{"reference":"Patient/p1"},"encounter":{"reference":"Encounter/e1"}},`+
			`"request":{"method":"PUT","url":"Condition/%s"}}`, id, fhir.SystemConditionCategory, fhir.SystemICD10CM, code, id)
	}
	entries := []string{
		`{"resource":{"resourceType":"Patient","id":"p1","gender":"female","birthDate":"1971-04-12"},"request":{"method":"PUT","url":"Patient/p1"}}`,
		`{"resource":{"resourceType":"Encounter","id":"e1","status":"finished","class":{"system":"` + fhir.SystemActCode + `","code":"AMB"},` +
			`"subject":{"reference":"Patient/p1"},"period":{"start":"2026-03-10T14:00:00Z","end":"2026-03-10T14:20:00Z"},` +
			`"diagnosis":[{"condition":{"reference":"Condition/c1"},"rank":1},{"condition":{"reference":"Condition/c2"},"rank":2}]},` +
			`"request":{"method":"PUT","url":"Encounter/e1"}}`,
		cond("c1", "J20.9"), cond("c2", "I10"),
		`{"resource":{"resourceType":"Procedure","id":"pr1","status":"completed","code":{"coding":[{"system":"` + fhir.SystemCPT + `","code":"99213"}]},` +
			`"subject":{"reference":"Patient/p1"},"encounter":{"reference":"Encounter/e1"},"performedDateTime":"2026-03-10T14:00:00Z"},` +
			`"request":{"method":"PUT","url":"Procedure/pr1"}}`,
		chargeEntry("ch1", "billable", fhir.SystemCPT, "99213", "2026-03-10", 1, []string{"25"}, "I10", "J20.9"),
		chargeEntry("ch2", "billable", fhir.SystemCPT, "94640", "2026-03-10", 2, nil, "J20.9"),
		chargeEntry("ch3", "billable", fhir.SystemCPT, "94640", "2026-03-10", 0, nil, "J20.9", "Z99.9"),
		chargeEntry("ch4", "billable", fhir.SystemHCPCS, "J7613", "2026-03-10", 1, nil),
		chargeEntry("ch5", "billable", fhir.SystemHCPCS, "J7613", "2026-03-10", -1, nil),
		chargeEntry("ch6", "billable", fhir.SystemCPT, "97110", "2026-03-11T22:30:00-05:00", 2.4, []string{"gp"}, "I10"),
		chargeEntry("ch7", "not-billable", fhir.SystemCPT, "99070", "2026-03-10", 1, nil),
		chargeEntry("ch8", "entered-in-error", fhir.SystemCPT, "99215", "2026-03-10", 1, nil),
	}
	return []byte(`{"resourceType":"Bundle","type":"transaction","entry":[` + strings.Join(entries, ",") + `]}`)
}

func TestChartCharges(t *testing.T) {
	ws, _ := planBytes(t, "charges", chargeBundle())
	for _, w := range ws {
		if w.Type == "ChargeItem" && (w.EncounterID != "e1" || w.PatientID != "p1") {
			t.Errorf("ChargeItem/%s indexed under encounter %q patient %q, want e1 and p1", w.ID, w.EncounterID, w.PatientID)
		}
	}
	d := chartOf(t, ws)
	type charge struct {
		Ref, Status, Code, ServiceDate string
		Modifiers                      []string
		Quantity                       float64
	}
	var gotCharges []charge
	for _, c := range d.Chart.Charges {
		gotCharges = append(gotCharges, charge{c.Reference, c.Status, c.Codings[0].Code, c.ServiceDate, c.Modifiers, c.Quantity})
	}
	wantCharges := []charge{
		{"ChargeItem/ch1", "billable", "99213", "2026-03-10", []string{"25"}, 1},
		{"ChargeItem/ch2", "billable", "94640", "2026-03-10", nil, 2},
		{"ChargeItem/ch3", "billable", "94640", "2026-03-10", nil, 0},
		{"ChargeItem/ch4", "billable", "J7613", "2026-03-10", nil, 1},
		{"ChargeItem/ch5", "billable", "J7613", "2026-03-10", nil, -1},
		{"ChargeItem/ch7", "not-billable", "99070", "2026-03-10", nil, 1},
		// 22:30 at UTC-5 is the next day in UTC; the service date stays local.
		{"ChargeItem/ch6", "billable", "97110", "2026-03-11", []string{"GP"}, 2.4},
	}
	if diff := cmp.Diff(wantCharges, gotCharges); diff != "" {
		t.Errorf("charges mismatch (-want +got):\n%s", diff)
	}
	if got := d.Chart.Charges[0].Reasons; len(got) != 2 || got[0].Code != "I10" {
		t.Errorf("ch1 reasons = %+v, want I10 then J20.9", got)
	}
	want := []workitem.SuggestedCode{
		{System: "icd10cm", Code: "J20.9", Source: "Condition/c1", Kind: "diagnosis"},
		{System: "icd10cm", Code: "I10", Source: "Condition/c2", Kind: "diagnosis"},
		// The documented Procedure's 99213 is billed by ch1: one line, the charge's.
		{System: "cpt", Code: "99213", Source: "ChargeItem/ch1", Kind: "procedure", Modifiers: []string{"25"}, Units: 1, Diagnoses: []int{2, 1}, ServiceDate: "2026-03-10"},
		// ch2 + ch3 (no quantity: one) = 3 units; Z99.9 is not a suggested diagnosis.
		{System: "cpt", Code: "94640", Source: "ChargeItem/ch2", Kind: "procedure", Units: 3, Diagnoses: []int{1}, ServiceDate: "2026-03-10"},
		// J7613 and its credit cancel out; 99070 is not billable.
		{System: "cpt", Code: "97110", Source: "ChargeItem/ch6", Kind: "procedure", Modifiers: []string{"GP"}, Units: 2, Diagnoses: []int{2}, ServiceDate: "2026-03-11"},
	}
	if diff := cmp.Diff(want, d.Chart.SuggestedCodes); diff != "" {
		t.Errorf("suggested codes mismatch (-want +got):\n%s", diff)
	}
	a, reasons := mapping.AutoAssignment(d.Chart)
	if len(reasons) > 0 {
		t.Fatalf("AutoAssignment: not a candidate: %v", reasons)
	}
	wantLines := []workitem.AssignedLine{
		{Code: "99213", Modifiers: []string{"25"}, Units: 1, Diagnoses: []int{2, 1}, ServiceDate: "2026-03-10"},
		{Code: "94640", Units: 3, Diagnoses: []int{1}, ServiceDate: "2026-03-10"},
		{Code: "97110", Modifiers: []string{"GP"}, Units: 2, Diagnoses: []int{2}, ServiceDate: "2026-03-11"},
	}
	if diff := cmp.Diff(wantLines, a.Lines); diff != "" {
		t.Errorf("assigned lines mismatch (-want +got):\n%s", diff)
	}
}

// TestChartChargesWaitForEncounter checks that charges arriving before
// their Encounter wait, stored, like Conditions do.
func TestChartChargesWaitForEncounter(t *testing.T) {
	ws, _ := planBytes(t, "charges", chargeBundle())
	var srcs []mapping.Source
	for _, w := range ws {
		if w.Type == "ChargeItem" {
			srcs = append(srcs, mapping.Source{Type: w.Type, ID: w.ID, Version: 1, Summary: w.Summary})
		}
	}
	if _, err := mapping.BuildChart(srcs, scenarioNow); !errors.Is(err, mapping.ErrNoEncounter) {
		t.Fatalf("BuildChart(charges only) = %v, want ErrNoEncounter", err)
	}
}

// TestChartProcedureWithoutCharge checks that the lines of a chart without
// ChargeItems are unchanged: one per documented code, no units or pointers.
func TestChartProcedureWithoutCharge(t *testing.T) {
	ws, _ := planScenario(t, "office-visit.json")
	for _, s := range chartOf(t, ws).Chart.SuggestedCodes {
		if s.Units != 0 || s.Modifiers != nil || s.Diagnoses != nil || s.ServiceDate != "" {
			t.Errorf("suggested %s %s carries charge fields: %+v", s.System, s.Code, s)
		}
	}
}
