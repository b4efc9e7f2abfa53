package mapping

import (
	"fmt"
	"slices"

	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping/codes"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// AutoAssignment proposes the straight-through code assignment of a chart,
// or says why the chart is not a candidate (rule 1 of the straight-through
// policy, workitem.StraightThroughPolicy). The rule: every encounter
// diagnosis carries an ICD-10-CM code and every Procedure a CPT, HCPCS or
// (inpatient) ICD-10-PCS code; charges count as procedures, so every
// billable ChargeItem carries a CPT or HCPCS code. Inpatient stays need
// present-on-admission indicators, which EHR codings do not carry, so they
// are never coded straight through.
//
// The diagnoses are the ICD-10-CM codes of the encounter diagnoses in the
// sequence workitem.SequenceDiagnoses gives (Encounter.diagnosis rank, then
// code: never ids or arrival), and only those: a problem-list entry, even
// confirmed and active, does not show that the condition required or
// affected patient care at this visit (ICD-10-CM Official Guidelines IV.J),
// so it stays on the chart as context and a coder may add it. Refuted and
// entered-in-error Conditions are never coded. The lines are the suggested CPT/HCPCS codes, with the units,
// modifiers, service date and diagnosis pointers a charge gave them (its
// pointers follow its diagnoses into this sequence), else one unit pointing
// at the first four diagnoses. Whether the sequence is unambiguous and the
// codes valid is for the policy and the edit engine to say afterwards.
func AutoAssignment(c *workitem.Chart) (workitem.Assignment, []workitem.AutoReason) {
	var a workitem.Assignment
	if reasons := notCandidate(c); len(reasons) > 0 {
		return a, reasons
	}
	o := workitem.SequenceDiagnoses(c)
	pos := map[string]int{} // display code -> 1-based position in a.Diagnoses
	for _, d := range o.Encounter {
		if workitem.NeverCoded(d) {
			continue
		}
		for _, cd := range d.Codings {
			if cd.System != fhir.SystemICD10CM || cd.Code == "" {
				continue
			}
			code := codes.Display(codes.ICD10CM, cd.Code)
			if pos[code] == 0 {
				a.Diagnoses = append(a.Diagnoses, workitem.AssignedDiagnosis{Code: code})
				pos[code] = len(a.Diagnoses)
			}
		}
	}
	if len(a.Diagnoses) == 0 {
		if i := slices.IndexFunc(o.Reasons, func(r workitem.AutoReason) bool { return r.Code == workitem.ReasonNoEncounterDx }); i >= 0 {
			return a, o.Reasons[i : i+1] // the policy's own reason, which it does not repeat
		}
		return a, []workitem.AutoReason{{Code: workitem.ReasonNoEncounterDx,
			Message: "no encounter diagnosis with an ICD-10-CM code is documented, so there is nothing to list first"}}
	}
	var ptrs []int
	for i := range min(4, len(a.Diagnoses)) {
		ptrs = append(ptrs, i+1)
	}
	var suggested []string // suggested diagnosis codes, which charge pointers index
	for _, s := range c.SuggestedCodes {
		if s.Kind == "diagnosis" {
			suggested = append(suggested, s.Code)
		}
	}
	for _, s := range c.SuggestedCodes {
		if s.Kind == "procedure" && (s.System == "cpt" || s.System == "hcpcs") {
			a.Lines = append(a.Lines, suggestedLine(s, ptrs, suggested, pos))
		}
	}
	return a, nil
}

// notCandidate says why a chart cannot be coded straight through: one
// reason per documented item that blocks it.
func notCandidate(c *workitem.Chart) []workitem.AutoReason {
	if workitem.Inpatient(c.Encounter.Class) {
		return []workitem.AutoReason{{Code: workitem.ReasonInpatient,
			Message: "an inpatient stay needs present-on-admission indicators, which EHR codings do not carry; a coder codes it"}}
	}
	if len(c.Conditions) == 0 {
		return []workitem.AutoReason{{Code: workitem.ReasonNoConditions, Message: "no Condition is documented for this encounter"}}
	}
	var out []workitem.AutoReason
	for _, d := range c.Conditions {
		if c.IsEncounterDiagnosis(d) && !workitem.NeverCoded(d) && !hasSystem(d.Codings, fhir.SystemICD10CM) {
			out = append(out, workitem.AutoReason{Code: workitem.ReasonDxWithoutICD10CM,
				Message: d.Reference + " is an encounter diagnosis without an ICD-10-CM code; a coder codes it"})
		}
	}
	for _, p := range c.Procedures {
		if !hasSystem(p.Codings, fhir.SystemCPT) && !hasSystem(p.Codings, fhir.SystemHCPCS) {
			out = append(out, workitem.AutoReason{Code: workitem.ReasonPxWithoutCPT,
				Message: p.Reference + " has no CPT or HCPCS code; a coder codes it"})
		}
	}
	for _, ch := range c.Charges {
		billable := ch.Status != "not-billable" && ch.Status != "aborted"
		if billable && !hasSystem(ch.Codings, fhir.SystemCPT) && !hasSystem(ch.Codings, fhir.SystemHCPCS) {
			out = append(out, workitem.AutoReason{Code: workitem.ReasonPxWithoutCPT,
				Message: fmt.Sprintf("%s is a billable charge without a CPT or HCPCS code; a coder codes it", ch.Reference)})
		}
	}
	return out
}

// suggestedLine is the assigned line of a suggested CPT/HCPCS code: a
// charge's units, modifiers, service date and pointers when it has them,
// else one unit pointing at ptrs. A charge's pointers index the suggested
// diagnoses; they are moved to the same codes' positions in the
// assignment (pos), and dropped for codes the assignment leaves out, so
// a line whose diagnoses are all left out has no pointer (an error edit).
func suggestedLine(s workitem.SuggestedCode, ptrs []int, suggested []string, pos map[string]int) workitem.AssignedLine {
	l := workitem.AssignedLine{Code: s.Code, Units: max(1, s.Units), Diagnoses: ptrs, ServiceDate: s.ServiceDate}
	if len(s.Modifiers) > 0 {
		l.Modifiers = append([]string(nil), s.Modifiers...)
	}
	if len(s.Diagnoses) > 0 {
		l.Diagnoses = []int{}
		for _, p := range s.Diagnoses {
			if p < 1 || p > len(suggested) {
				continue
			}
			if n := pos[suggested[p-1]]; n > 0 {
				l.Diagnoses = append(l.Diagnoses, n)
			}
		}
	}
	return l
}

func hasSystem(cs []workitem.Coding, system string) bool {
	for _, c := range cs {
		if c.System == system && c.Code != "" {
			return true
		}
	}
	return false
}
