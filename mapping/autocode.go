package mapping

import (
	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// AutoAssignment proposes the straight-through code assignment of a chart,
// or says why the chart is not a candidate. The rule: every
// encounter-diagnosis Condition carries an ICD-10-CM code and every
// Procedure a CPT, HCPCS or (inpatient) ICD-10-PCS code; charges count as
// procedures, so every billable ChargeItem carries a CPT or HCPCS code. The
// diagnoses are the suggested ICD-10-CM codes in chart order (so the
// first-ranked Condition is principal); the lines are the suggested CPT/HCPCS
// codes, with the units, modifiers, service date and diagnosis pointers a
// charge gave them, else one unit pointing at the first four diagnoses.
// Inpatient stays need present-on-admission indicators, which EHR codings
// do not carry, so they are never coded straight through. Whether the codes
// are valid is for the edit engine to say afterwards.
func AutoAssignment(c *workitem.Chart) (workitem.Assignment, string) {
	var a workitem.Assignment
	if reason := notCandidate(c); reason != "" {
		return a, reason
	}
	var ptrs []int
	for _, s := range c.SuggestedCodes {
		if s.Kind == "diagnosis" {
			a.Diagnoses = append(a.Diagnoses, workitem.AssignedDiagnosis{Code: s.Code})
			if len(ptrs) < 4 {
				ptrs = append(ptrs, len(a.Diagnoses))
			}
		}
	}
	if len(a.Diagnoses) == 0 {
		return a, "no ICD-10-CM codes suggested"
	}
	for _, s := range c.SuggestedCodes {
		if s.Kind == "procedure" && (s.System == "cpt" || s.System == "hcpcs") {
			a.Lines = append(a.Lines, suggestedLine(s, ptrs))
		}
	}
	return a, ""
}

// notCandidate says why a chart cannot be coded straight through, or "".
func notCandidate(c *workitem.Chart) string {
	if workitem.Inpatient(c.Encounter.Class) {
		return "inpatient stays need POA indicators"
	}
	if len(c.Conditions) == 0 {
		return "no documented conditions"
	}
	for _, d := range c.Conditions {
		if isEncounterDx(d) && !hasSystem(d.Codings, fhir.SystemICD10CM) {
			return d.Reference + " has no ICD-10-CM code"
		}
	}
	for _, p := range c.Procedures {
		if !hasSystem(p.Codings, fhir.SystemCPT) && !hasSystem(p.Codings, fhir.SystemHCPCS) {
			return p.Reference + " has no CPT or HCPCS code"
		}
	}
	for _, ch := range c.Charges {
		billable := ch.Status != "not-billable" && ch.Status != "aborted"
		if billable && !hasSystem(ch.Codings, fhir.SystemCPT) && !hasSystem(ch.Codings, fhir.SystemHCPCS) {
			return ch.Reference + " has no CPT or HCPCS code"
		}
	}
	return ""
}

// suggestedLine is the assigned line of a suggested CPT/HCPCS code: a
// charge's units, modifiers, service date and pointers when it has them,
// else one unit pointing at ptrs.
func suggestedLine(s workitem.SuggestedCode, ptrs []int) workitem.AssignedLine {
	l := workitem.AssignedLine{Code: s.Code, Units: max(1, s.Units), Diagnoses: ptrs, ServiceDate: s.ServiceDate}
	if len(s.Modifiers) > 0 {
		l.Modifiers = append([]string(nil), s.Modifiers...)
	}
	if len(s.Diagnoses) > 0 {
		l.Diagnoses = append([]int(nil), s.Diagnoses...)
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
