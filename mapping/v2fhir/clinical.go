package v2fhir

import (
	"strconv"
	"strings"

	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping/hl7v2"
)

// conditions maps each DG1 to an encounter-diagnosis Condition (id from
// the Encounter and the code) and to its Encounter.diagnosis entry: DG1-3
// code (system through the alias table, DG1-2 when DG1-3.3 is empty),
// DG1-4 text, DG1-5 onset, DG1-6 use and verification status, DG1-15
// rank, DG1-21 "D" as entered-in-error. Only DG1-15 (diagnosis priority)
// gives a rank: segment order is the order of arrival, not a sequence a
// clinician chose, so DG1 without a priority stay unranked (the
// straight-through policy then takes a single encounter diagnosis as
// first-listed and leaves several unranked ones to a coder).
func (m *mapper) conditions() ([]condition, []encounterDiagnosis) {
	var conds []condition
	var dx []encounterDiagnosis
	seen := map[string]bool{}
	for _, seg := range m.msg.All("DG1") {
		c, ok := m.condition(seg)
		if !ok || seen[c.ID] {
			continue
		}
		seen[c.ID] = true
		conds = append(conds, c)
		dx = append(dx, encounterDiagnosis{Condition: ref("Condition", c.ID), Use: dgUse(seg), Rank: m.rank(seg)})
	}
	return conds, dx
}

// condition maps one DG1.
func (m *mapper) condition(seg *hl7v2.Segment) (condition, bool) {
	rep := seg.Field(3).Rep(0)
	if value(rep.Comp(1)) == "" {
		m.errs.at(seg, 3, 1, codeRequired, "diagnosis code is required")
		return condition{}, false
	}
	cs := m.codingsOf(seg, 3, rep, billingCode, value(seg.Value(2, 1)))
	if cs == nil {
		return condition{}, false
	}
	c := condition{ResourceType: "Condition", ID: resourceID("Condition", m.encID, cs[0].System, cs[0].Code),
		VerificationStatus: status(fhir.SystemConditionVerification, dgVerification(seg)),
		ClinicalStatus:     ptr(status(fhir.SystemConditionClinical, "active")),
		Category:           []concept{status(fhir.SystemConditionCategory, "encounter-diagnosis")},
		Code:               concept{Coding: cs, Text: value(seg.Value(4, 1))},
		Subject:            ref("Patient", m.patID), Encounter: ref("Encounter", m.encID)}
	if strings.EqualFold(value(seg.Value(21, 1)), "D") {
		// A deleted diagnosis: con-5 forbids a clinical status with it.
		c.VerificationStatus, c.ClinicalStatus = status(fhir.SystemConditionVerification, "entered-in-error"), nil
	}
	c.OnsetDateTime = m.timeAt(seg, 5, "diagnosis date/time")
	return c, true
}

// dgVerification maps DG1-6 (diagnosis type, HL7 table 0052: A
// admitting, W working, F final) to Condition.verificationStatus: a
// working diagnosis is provisional, as ICD-10-CM Official Guidelines IV.H
// treat a "working diagnosis" as uncertain (not coded as if certain in
// outpatient coding); admitting, final and absent types are confirmed.
func dgVerification(seg *hl7v2.Segment) string {
	if strings.EqualFold(value(seg.Value(6, 1)), "W") {
		return "provisional"
	}
	return "confirmed"
}

// rank reads DG1-15 (diagnosis priority): 1 is the principal diagnosis, 0
// or absent unranked.
func (m *mapper) rank(seg *hl7v2.Segment) int {
	v := value(seg.Value(15, 1))
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		m.errs.at(seg, 15, 1, codeDataType, "diagnosis priority is not a whole number")
		return 0
	}
	return n
}

// procedures maps each PR1 to a completed Procedure (id from the
// Encounter, the code and PR1-5): PR1-3 code (a code without system read
// by its format), PR1-4 text, PR1-5 date.
func (m *mapper) procedures() {
	for _, seg := range m.msg.All("PR1") {
		rep := seg.Field(3).Rep(0)
		if value(rep.Comp(1)) == "" {
			m.errs.at(seg, 3, 1, codeRequired, "procedure code is required")
			continue
		}
		cs := m.codingsOf(seg, 3, rep, procedureCode, "")
		if cs == nil {
			continue
		}
		when := m.timeAt(seg, 5, "procedure date/time")
		p := procedure{ResourceType: "Procedure", ID: resourceID("Procedure", m.encID, cs[0].System, cs[0].Code, when),
			Status: "completed", Code: concept{Coding: cs, Text: value(seg.Value(4, 1))},
			Subject: ref("Patient", m.patID), Encounter: ref("Encounter", m.encID), PerformedDateTime: when}
		m.add("Procedure", p.ID, p)
	}
}

// timeAt reads field n of seg as a FHIR dateTime ("" when absent),
// recording a malformed value.
func (m *mapper) timeAt(seg *hl7v2.Segment, n int, what string) string {
	v := value(seg.Value(n, 1))
	if v == "" {
		return ""
	}
	s, ok := parseDTM(v, m.loc)
	if !ok {
		m.errs.at(seg, n, 1, codeDataType, what+" is not a valid date/time")
	}
	return s.Text
}

// status is a CodeableConcept of one code.
func status(system, code string) concept {
	return concept{Coding: []coding{{System: system, Code: code}}}
}

func ptr[T any](v T) *T { return &v }
