package v2fhir

import (
	"strings"
	"time"

	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping/hl7v2"
)

// systemPatientClass is HL7 table 0004 (patient class) as a FHIR code system.
const systemPatientClass = "http://terminology.hl7.org/CodeSystem/v2-0004"

// classes is the V2-to-FHIR PatientClass[EncounterClass] concept map:
// E, I, O, P become v3 ActCode classes; R, B, C, N, U stay table 0004 codes.
var classes = map[string]coding{
	"E": {fhir.SystemActCode, "EMER", "emergency"},
	"I": {fhir.SystemActCode, "IMP", "inpatient encounter"},
	"O": {fhir.SystemActCode, "AMB", "ambulatory"},
	"P": {fhir.SystemActCode, "PRENC", "pre-admission"},
	"R": {systemPatientClass, "R", "Recurring patient"},
	"B": {systemPatientClass, "B", "Obstetrics"},
	"C": {systemPatientClass, "C", "Commercial Account"},
	"N": {systemPatientClass, "N", "Not Applicable"},
	"U": {systemPatientClass, "U", "Unknown"},
}

// classStatus is the V2-to-FHIR PatientClass[EncounterStatus] concept map,
// the status of a visit not (yet) discharged: planned for a pre-admit,
// unknown for class U, in-progress otherwise.
func classStatus(class string) string {
	switch class {
	case "P":
		return "planned"
	case "U":
		return "unknown"
	}
	return "in-progress"
}

// encounter maps PV1 (with the event and the prior Encounter) to the
// Encounter: PV1-19 visit number, PV1-2 class, PV1-7 attending doctors,
// PV1-44/45 period, status by the rules of the package doc, the
// diagnoses, and the sending facility as serviceProvider.
func (m *mapper) encounter(ev string, prior *Prior, attending []reference, dx []encounterDiagnosis) encounter {
	e := encounter{ResourceType: "Encounter", ID: m.encID, Subject: ref("Patient", m.patID), ServiceProvider: ref("Organization", m.orgID),
		Identifier: []identifier{m.identifierOf(m.pv1.Field(19).Rep(0), "VN")}}
	class := strings.ToUpper(value(m.pv1.Value(2, 1)))
	switch c, ok := classes[class]; {
	case class == "":
		m.errs.at(m.pv1, 2, 1, codeRequired, "patient class is required")
	case !ok:
		m.errs.at(m.pv1, 2, 1, codeTable, "patient class is not in table 0004")
	default:
		e.Class = c
	}
	for _, a := range attending {
		e.Participant = append(e.Participant, participant{
			Type:       []concept{{Coding: []coding{{System: fhir.SystemParticipantType, Code: "ATND", Display: "attender"}}}},
			Individual: &a,
		})
	}
	var p period
	e.Status, p = m.visitState(strings.TrimPrefix(ev, "ADT^"), class, prior)
	if p != (period{}) {
		e.Period = &p
	}
	e.Diagnosis = diagnoses(ev, dx, prior)
	return e
}

// visitState applies the status rules (see the package doc) to the event
// trig, the message's PV1-44/45 and the prior Encounter.
func (m *mapper) visitState(trig, class string, prior *Prior) (string, period) {
	start, end := m.pv1Time(44, "admit date/time"), m.pv1Time(45, "discharge date/time")
	if start.Text != "" && end.Text != "" && end.Time.Before(start.Time) {
		m.errs.at(m.pv1, 45, 1, codeDataType, "discharge date/time is before the admit date/time")
	}
	var was string
	var priorStart, priorEnd string
	if prior != nil {
		was, priorStart, priorEnd = prior.Status, instant(prior.Start), instant(prior.End)
	}
	p := period{Start: first(start.Text, priorStart)}
	switch {
	case was == "cancelled" || was == "entered-in-error":
		p.End = first(end.Text, priorEnd)
		return was, p
	case trig == "A11":
		p.End = first(end.Text, priorEnd)
		return "cancelled", p
	case trig == "A13":
		return "in-progress", p
	case trig == "A03":
		p.End = first(end.Text, priorEnd, m.eventTime())
		return "finished", p
	case end.Text != "":
		p.End = end.Text
		return "finished", p
	case was == "finished":
		p.End = priorEnd
		return "finished", p
	}
	return classStatus(class), p
}

// pv1Time reads PV1-n (a DTM, or a TS whose first component is one).
func (m *mapper) pv1Time(n int, what string) stamp {
	v := value(m.pv1.Value(n, 1))
	if v == "" {
		return stamp{}
	}
	s, ok := parseDTM(v, m.loc)
	if !ok {
		m.errs.at(m.pv1, n, 1, codeDataType, what+" is not a valid date/time")
	}
	return s
}

// eventTime is when a discharge without PV1-45 happened: EVN-6 (event
// occurred), else EVN-2 (recorded), else "".
func (m *mapper) eventTime() string {
	evn := m.msg.First("EVN")
	if evn == nil {
		return ""
	}
	for _, n := range []int{6, 2} {
		if v := value(evn.Value(n, 1)); v != "" {
			s, ok := parseDTM(v, m.loc)
			if !ok {
				m.errs.at(evn, n, 1, codeDataType, "event date/time is not a valid date/time")
			}
			return s.Text
		}
	}
	return ""
}

// instant renders a stored time as a FHIR dateTime in its own offset.
func instant(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("2006-01-02T15:04:05.999999999Z07:00")
}

func first(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// diagnoses is Encounter.diagnosis: an ADT message's DG1 segments are the
// visit's diagnosis list (they replace the prior one); a message without
// DG1, and a DFT whose DG1 only explain its charges, keep the prior list.
func diagnoses(ev string, dx []encounterDiagnosis, prior *Prior) []encounterDiagnosis {
	keepPrior := prior != nil && len(prior.Diagnoses) > 0 && (len(dx) == 0 || ev == "DFT^P03")
	if !keepPrior {
		return dx
	}
	out := make([]encounterDiagnosis, 0, len(prior.Diagnoses))
	for _, d := range prior.Diagnoses {
		ed := encounterDiagnosis{Condition: reference{Reference: d.Condition}, Rank: d.Rank}
		if len(d.Use.Codings) > 0 || d.Use.Text != "" {
			u := concept{Text: d.Use.Text}
			for _, c := range d.Use.Codings {
				u.Coding = append(u.Coding, coding(c))
			}
			ed.Use = &u
		}
		out = append(out, ed)
	}
	return out
}

// dgUse maps DG1-6 (diagnosis type, table 0052) to Encounter.diagnosis.use:
// A admitting is AD (the V2-to-FHIR DiagnosisType map); F final is DD
// (discharge diagnosis), which the IG leaves unmapped; W working has no
// diagnosis-role code and gets no use.
func dgUse(seg *hl7v2.Segment) *concept {
	switch strings.ToUpper(value(seg.Value(6, 1))) {
	case "A":
		return &concept{Coding: []coding{{System: fhir.SystemDiagnosisRole, Code: "AD", Display: "Admission diagnosis"}}}
	case "F":
		return &concept{Coding: []coding{{System: fhir.SystemDiagnosisRole, Code: "DD", Display: "Discharge diagnosis"}}}
	}
	return nil
}
