package mapping

import (
	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// AutoAssignment proposes the straight-through code assignment of a chart,
// or says why the chart is not a candidate. The rule: every
// encounter-diagnosis Condition carries an ICD-10-CM code and every
// Procedure a CPT, HCPCS or (inpatient) ICD-10-PCS code; the diagnoses are
// the suggested ICD-10-CM codes in chart order (so the first-ranked
// Condition is principal), the lines the suggested CPT/HCPCS codes, one
// unit each, pointing at the first four diagnoses. Inpatient stays need
// present-on-admission indicators, which EHR codings do not carry, so they
// are never coded straight through. Whether the codes are valid is for the
// edit engine to say afterwards.
func AutoAssignment(c *workitem.Chart) (workitem.Assignment, string) {
	var a workitem.Assignment
	switch c.Encounter.Class {
	case "IMP", "ACUTE", "NONAC":
		return a, "inpatient stays need POA indicators"
	}
	if len(c.Conditions) == 0 {
		return a, "no documented conditions"
	}
	for _, d := range c.Conditions {
		if isEncounterDx(d) && !hasSystem(d.Codings, fhir.SystemICD10CM) {
			return a, d.Reference + " has no ICD-10-CM code"
		}
	}
	for _, p := range c.Procedures {
		if !hasSystem(p.Codings, fhir.SystemCPT) && !hasSystem(p.Codings, fhir.SystemHCPCS) {
			return a, p.Reference + " has no CPT or HCPCS code"
		}
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
			a.Lines = append(a.Lines, workitem.AssignedLine{Code: s.Code, Units: 1, Diagnoses: ptrs})
		}
	}
	return a, ""
}

func hasSystem(cs []workitem.Coding, system string) bool {
	for _, c := range cs {
		if c.System == system && c.Code != "" {
			return true
		}
	}
	return false
}
