package mapping

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping/codes"
	"github.com/codebridge/codebridge/mapping/edits"
	"github.com/codebridge/codebridge/mapping/workitem"

	d4pb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/datatypes_go_proto"
	r4claimpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/claim_go_proto"
)

// diagnoses builds Claim.diagnosis: ICD-10-CM codes in dotted display form,
// in sequence, the first typed principal; on inpatient institutional claims
// each carries its present-on-admission indicator (Y, N, U, W; the exempt
// "1" and blanks are omitted), except the codes on the POA-exempt list,
// whose POA is left blank whatever was coded (ICD-10-CM Official
// Guidelines, Appendix I; the edits say POA_EXEMPT_IGNORED).
func diagnoses(dx []edits.Diagnosis, inpatient bool, exempt map[string]bool) []*r4claimpb.Claim_Diagnosis {
	out := make([]*r4claimpb.Claim_Diagnosis, 0, len(dx))
	for i, d := range dx {
		cd := &r4claimpb.Claim_Diagnosis{
			Sequence: positive(i + 1),
			Diagnosis: &r4claimpb.Claim_Diagnosis_DiagnosisX{Choice: &r4claimpb.Claim_Diagnosis_DiagnosisX_CodeableConcept{
				CodeableConcept: concept(fhir.SystemICD10CM, codes.Display(codes.ICD10CM, d.Code)),
			}},
		}
		if i == 0 {
			cd.Type = []*d4pb.CodeableConcept{concept(fhir.SystemDiagnosisType, "principal")}
		}
		if poa := poaCode(d.POA); inpatient && poa != "" && !exempt[codes.Normalize(codes.ICD10CM, d.Code)] {
			cd.OnAdmission = concept(fhir.SystemDiagnosisOnAdmission, poa)
		}
		out = append(out, cd)
	}
	return out
}

// poaCode maps a UB-04 POA indicator to the ex-diagnosis-on-admission code.
func poaCode(poa string) string {
	switch p := strings.ToLower(strings.TrimSpace(poa)); p {
	case "y", "n", "u", "w":
		return p
	}
	return ""
}

// procedures builds Claim.procedure from ICD-10-PCS codes, dated by the
// procedure or, failing that, the start of the encounter.
func procedures(ps []edits.Procedure, start time.Time) []*r4claimpb.Claim_Procedure {
	out := make([]*r4claimpb.Claim_Procedure, 0, len(ps))
	for i, p := range ps {
		d := p.Date
		if d.IsZero() {
			d = start
		}
		cp := &r4claimpb.Claim_Procedure{
			Sequence: positive(i + 1),
			Procedure: &r4claimpb.Claim_Procedure_ProcedureX{Choice: &r4claimpb.Claim_Procedure_ProcedureX_CodeableConcept{
				CodeableConcept: concept(fhir.SystemICD10PCS, codes.Normalize(codes.ICD10PCS, p.Code)),
			}},
		}
		if !d.IsZero() {
			cp.Date = dateTime(d)
		}
		out = append(out, cp)
	}
	return out
}

// items builds Claim.item from the service lines; rendering is the
// care-team sequence of the rendering provider, or 0.
func items(in ClaimInput, h header, rendering int) ([]*r4claimpb.Claim_Item, error) {
	out := make([]*r4claimpb.Claim_Item, 0, len(in.Lines))
	for i, l := range in.Lines {
		it, err := item(in, h, i, l)
		if err != nil {
			return nil, err
		}
		if rendering > 0 {
			it.CareTeamSequence = []*d4pb.PositiveInt{positive(rendering)}
		}
		out = append(out, it)
	}
	return out, nil
}

// item builds one Claim.item from service line i.
func item(in ClaimInput, h header, i int, l edits.Line) (*r4claimpb.Claim_Item, error) {
	class := in.Encounter.Class.Code
	it := &r4claimpb.Claim_Item{
		Sequence:         positive(i + 1),
		ProductOrService: productOrService(l.Code),
		Quantity:         &d4pb.SimpleQuantity{Value: &d4pb.Decimal{Value: strconv.Itoa(max(l.Units, 1))}},
		Location: &r4claimpb.Claim_Item_LocationX{Choice: &r4claimpb.Claim_Item_LocationX_CodeableConcept{
			CodeableConcept: concept(fhir.SystemCMSPlaceOfService, placeOfService(l.PlaceOfService, class, in.Options.TelehealthPOS)),
		}},
	}
	for _, p := range l.Diagnoses {
		if p < 1 || p > len(in.Diagnoses) {
			return nil, workitem.Errorf(workitem.Unprocessable,
				"mapping.BuildClaim: lines[%d].diagnoses: pointer %d is outside the %d diagnoses", i, p, len(in.Diagnoses))
		}
		it.DiagnosisSequence = append(it.DiagnosisSequence, positive(p))
	}
	for _, m := range lineModifiers(l, class) {
		it.Modifier = append(it.Modifier, modifier(m))
	}
	if d := firstDate(l.ServiceDate, h.start); !d.IsZero() {
		it.Serviced = &r4claimpb.Claim_Item_ServicedX{Choice: &r4claimpb.Claim_Item_ServicedX_Date{Date: date(d)}}
	}
	enc, err := reference(h.encounter)
	if err != nil {
		return nil, err
	}
	it.Encounter = []*d4pb.Reference{enc}
	return it, nil
}

// productOrService codes a line as CPT (five digits, or four digits and
// F, T, U or M) or, for letter-first codes, HCPCS Level II.
func productOrService(code string) *d4pb.CodeableConcept {
	code = codes.Normalize(codes.CPT, code)
	if _, ok := codes.CPTFormat(code); ok {
		return concept(fhir.SystemCPT, code)
	}
	return concept(fhir.SystemHCPCS, code)
}

// modifier codes a procedure modifier: letter-first modifiers (GT, LT,
// Q5...) are HCPCS Level II modifiers, the others (25, 95, 1P...) CPT
// modifiers. The R4 example "modifiers" code system holds neither.
func modifier(m string) *d4pb.CodeableConcept {
	if m != "" && m[0] >= 'A' && m[0] <= 'Z' {
		return concept(fhir.SystemHCPCS, m)
	}
	return concept(fhir.SystemCPT, m)
}

// lineModifiers returns the line's modifiers, normalised, with the
// telehealth modifier 95 appended when edits.Add95 says so: a virtual (VR)
// encounter's line whose code is on the CPT Appendix P table of
// edits.AppendixPAudioVideo, without 93, FQ, FR, GT or GQ, at a telehealth
// place of service (the coder's 02 or 10, or none given).
func lineModifiers(l edits.Line, class string) []string {
	out := make([]string, 0, len(l.Modifiers)+1)
	for _, m := range l.Modifiers {
		if m = strings.ToUpper(strings.TrimSpace(m)); m != "" {
			out = append(out, m)
		}
	}
	if edits.Add95(class, l) {
		out = append(out, edits.TelehealthModifier95)
	}
	return out
}

// placeOfService is the line's CMS place-of-service code: the coder's when
// given (the assignment's placeOfService), else by encounter class: VR the
// configured telehealth POS ("10", patient at home, by default; "02"
// elsewhere: CMS POS code set, CY2024 PFS), EMER 23, inpatient (IMP, ACUTE,
// NONAC) 21, OBSENC 22, HH 12, else (AMB...) 11.
func placeOfService(lineCode, class, telehealth string) string {
	if lineCode = strings.TrimSpace(lineCode); lineCode != "" {
		return lineCode
	}
	switch {
	case class == "VR":
		return firstNonEmpty(telehealth, "10")
	case class == "EMER":
		return "23"
	case workitem.Inpatient(class):
		return "21"
	case class == "OBSENC":
		return "22"
	case class == "HH":
		return "12"
	}
	return "11"
}

// concept is a CodeableConcept of one coding.
func concept(system, code string) *d4pb.CodeableConcept {
	return &d4pb.CodeableConcept{Coding: []*d4pb.Coding{{
		System: &d4pb.Uri{Value: system},
		Code:   &d4pb.Code{Value: code},
	}}}
}

// reference is a literal Reference, typed the way the google/fhir
// unmarshaller types it.
func reference(s string) (*d4pb.Reference, error) {
	r := &d4pb.Reference{}
	if err := fhir.SetReference(r, s); err != nil {
		return nil, workitem.Errorf(workitem.Unprocessable, "mapping.BuildClaim: a reference is not a valid FHIR reference")
	}
	return r, nil
}

// npiIdentifier is an NPI Identifier.
func npiIdentifier(npi string) *d4pb.Identifier {
	return &d4pb.Identifier{System: &d4pb.Uri{Value: fhir.SystemNPI}, Value: &d4pb.String{Value: npi}}
}

// positive is a positiveInt.
func positive(n int) *d4pb.PositiveInt {
	return &d4pb.PositiveInt{Value: uint32(n)}
}

// dateTime is a FHIR dateTime at second precision in t's own offset.
func dateTime(t time.Time) *d4pb.DateTime {
	return &d4pb.DateTime{ValueUs: t.Truncate(time.Second).UnixMicro(), Timezone: zone(t), Precision: d4pb.DateTime_SECOND}
}

// date is the FHIR date of t's calendar day in t's own offset, held (as the
// validating parser holds dates) as that day's midnight UTC.
func date(t time.Time) *d4pb.Date {
	y, m, d := t.Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	return &d4pb.Date{ValueUs: day.UnixMicro(), Timezone: "UTC", Precision: d4pb.Date_DAY}
}

// serviceDates are the encounter's local dates of service, as the edits
// take them (EncounterDates): the Claim shows the dates the codes were
// checked on.
func (in ClaimInput) serviceDates() (start, end time.Time) {
	e := in.Encounter
	return localDate(asSent(e.StartAsSent, &e.Period.Start), in.Options.Facility),
		localDate(asSent(e.EndAsSent, &e.Period.End), in.Options.Facility)
}

// billablePeriod is Claim.billablePeriod: the encounter's local dates of
// service (the statement-covers period, from admission to discharge for an
// inpatient stay), at day precision, or nil when neither is known.
func billablePeriod(in ClaimInput) *d4pb.Period {
	start, end := in.serviceDates()
	if start.IsZero() && end.IsZero() {
		return nil
	}
	out := &d4pb.Period{}
	if !start.IsZero() {
		out.Start = day(start)
	}
	if !end.IsZero() {
		out.End = day(end)
	}
	return out
}

// day is a FHIR dateTime of a civil date (midnight UTC) at day precision.
func day(d time.Time) *d4pb.DateTime {
	return &d4pb.DateTime{ValueUs: d.UnixMicro(), Timezone: "UTC", Precision: d4pb.DateTime_DAY}
}

// zone is the google/fhir timezone of t as a "+hh:mm" offset, the form the
// validating parser produces.
func zone(t time.Time) string {
	_, off := t.Zone()
	sign := "+"
	if off < 0 {
		sign, off = "-", -off
	}
	return fmt.Sprintf("%s%02d:%02d", sign, off/3600, off%3600/60)
}

// firstDate returns the first non-zero time, or the zero time.
func firstDate(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}
