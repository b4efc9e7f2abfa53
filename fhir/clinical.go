package fhir

import (
	"fmt"
	"strconv"
	"time"

	d4pb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/datatypes_go_proto"
	r4chargeitempb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/charge_item_go_proto"
	r4conditionpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/condition_go_proto"
	r4encounterpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/encounter_go_proto"
	r4procedurepb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/procedure_go_proto"
)

// Encounter holds what the mapping layer needs from an R4 Encounter.
type Encounter struct {
	ID              string
	Identifiers     []Identifier
	Status          string // e.g. "finished"
	Class           Coding // e.g. {SystemActCode, "AMB", "ambulatory"}
	Types           []Concept
	Period          Period
	Subject         string // e.g. "Patient/123"
	ServiceProvider string // e.g. "Organization/1"
	Participants    []Participant
	Diagnoses       []Diagnosis
	Locations       []string
	// DischargeDisposition is hospitalization.dischargeDisposition.
	DischargeDisposition Concept
	// StartAsSent and EndAsSent are period.start and period.end as the
	// sender wrote them (see AsSent): Period holds the instants, these
	// keep the offset they were sent with ("Z" for UTC) and whether only a
	// date was sent, which the date of service depends on.
	StartAsSent, EndAsSent string `json:",omitempty"`
}

// Participant is one Encounter.participant.
type Participant struct {
	Types      []Concept
	Individual string
}

// Diagnosis is one Encounter.diagnosis.
type Diagnosis struct {
	Condition string // e.g. "Condition/1"
	Use       Concept
	Rank      int // 0 when absent
}

// errType reports a resource of the wrong type to an extractor.
func errType(want string, res *Resource) error {
	got := "nil"
	if res != nil {
		got = res.Type
	}
	return fmt.Errorf("fhir: want %s resource, got %s", want, got)
}

// EncounterOf extracts an Encounter from a parsed resource.
func EncounterOf(res *Resource) (Encounter, error) {
	e, ok := msgOf[*r4encounterpb.Encounter](res)
	if !ok {
		return Encounter{}, errType("Encounter", res)
	}
	out := Encounter{
		ID:                   e.GetId().GetValue(),
		Identifiers:          identifiersOf(e.GetIdentifier()),
		Status:               codeOf(e.GetStatus()),
		Class:                codingOf(e.GetClassValue()),
		Types:                conceptsOf(e.GetType()),
		Period:               periodOf(e.GetPeriod()),
		Subject:              ReferenceString(e.GetSubject()),
		ServiceProvider:      ReferenceString(e.GetServiceProvider()),
		DischargeDisposition: conceptOf(e.GetHospitalization().GetDischargeDisposition()),
		StartAsSent:          AsSent(e.GetPeriod().GetStart()),
		EndAsSent:            AsSent(e.GetPeriod().GetEnd()),
	}
	for _, p := range e.GetParticipant() {
		out.Participants = append(out.Participants, Participant{
			Types: conceptsOf(p.GetType()), Individual: ReferenceString(p.GetIndividual())})
	}
	for _, d := range e.GetDiagnosis() {
		out.Diagnoses = append(out.Diagnoses, Diagnosis{
			Condition: ReferenceString(d.GetCondition()),
			Use:       conceptOf(d.GetUse()),
			Rank:      int(d.GetRank().GetValue()),
		})
	}
	for _, l := range e.GetLocation() {
		if s := ReferenceString(l.GetLocation()); s != "" {
			out.Locations = append(out.Locations, s)
		}
	}
	return out, nil
}

// Condition holds what the mapping layer needs from an R4 Condition.
type Condition struct {
	ID                 string
	Identifiers        []Identifier
	Subject            string
	Encounter          string
	Categories         []Concept
	ClinicalStatus     string // code, e.g. "active"
	VerificationStatus string // code, e.g. "confirmed"
	Code               Concept
	Onset              time.Time // onsetDateTime or onsetPeriod.start
	RecordedDate       time.Time
}

// ConditionOf extracts a Condition from a parsed resource.
func ConditionOf(res *Resource) (Condition, error) {
	c, ok := msgOf[*r4conditionpb.Condition](res)
	if !ok {
		return Condition{}, errType("Condition", res)
	}
	onset := dateTimeOf(c.GetOnset().GetDateTime())
	if onset.IsZero() {
		onset = dateTimeOf(c.GetOnset().GetPeriod().GetStart())
	}
	return Condition{
		ID:                 c.GetId().GetValue(),
		Identifiers:        identifiersOf(c.GetIdentifier()),
		Subject:            ReferenceString(c.GetSubject()),
		Encounter:          ReferenceString(c.GetEncounter()),
		Categories:         conceptsOf(c.GetCategory()),
		ClinicalStatus:     conceptOf(c.GetClinicalStatus()).Code(""),
		VerificationStatus: conceptOf(c.GetVerificationStatus()).Code(""),
		Code:               conceptOf(c.GetCode()),
		Onset:              onset,
		RecordedDate:       dateTimeOf(c.GetRecordedDate()),
	}, nil
}

// Procedure holds what the mapping layer needs from an R4 Procedure.
type Procedure struct {
	ID          string
	Identifiers []Identifier
	Status      string // e.g. "completed"
	Subject     string
	Encounter   string
	Code        Concept
	// Performed is performedPeriod, or performedDateTime as Start (End zero).
	Performed  Period
	Performers []string
	BodySites  []Concept
}

// ProcedureOf extracts a Procedure from a parsed resource.
func ProcedureOf(res *Resource) (Procedure, error) {
	p, ok := msgOf[*r4procedurepb.Procedure](res)
	if !ok {
		return Procedure{}, errType("Procedure", res)
	}
	out := Procedure{
		ID:          p.GetId().GetValue(),
		Identifiers: identifiersOf(p.GetIdentifier()),
		Status:      codeOf(p.GetStatus()),
		Subject:     ReferenceString(p.GetSubject()),
		Encounter:   ReferenceString(p.GetEncounter()),
		Code:        conceptOf(p.GetCode()),
		Performed:   periodOf(p.GetPerformed().GetPeriod()),
		BodySites:   conceptsOf(p.GetBodySite()),
	}
	if dt := p.GetPerformed().GetDateTime(); dt != nil {
		out.Performed = Period{Start: dateTimeOf(dt)}
	}
	for _, pf := range p.GetPerformer() {
		if s := ReferenceString(pf.GetActor()); s != "" {
			out.Performers = append(out.Performers, s)
		}
	}
	return out, nil
}

// ChargeItem holds what the mapping layer needs from an R4 ChargeItem: a
// charge line (for example an HL7 v2 FT1 segment) whose CPT or HCPCS code
// becomes a suggested code line.
type ChargeItem struct {
	ID          string
	Identifiers []Identifier
	Status      string // planned | billable | not-billable | aborted | billed | entered-in-error | unknown
	Subject     string
	Context     string // the Encounter (or EpisodeOfCare) the charge belongs to
	Code        Concept
	// Modifiers are the procedure modifiers carried in
	// ExtensionChargeItemModifier extensions, in order.
	Modifiers []Coding
	// Quantity is quantity.value; 0 when absent.
	Quantity float64
	// Occurrence is occurrencePeriod, or occurrenceDateTime as Start.
	Occurrence Period
	// Reasons are the reason codes (the diagnoses the charge is for).
	Reasons  []Concept
	Services []string
}

// ChargeItemOf extracts a ChargeItem from a parsed resource.
func ChargeItemOf(res *Resource) (ChargeItem, error) {
	c, ok := msgOf[*r4chargeitempb.ChargeItem](res)
	if !ok {
		return ChargeItem{}, errType("ChargeItem", res)
	}
	out := ChargeItem{
		ID:          c.GetId().GetValue(),
		Identifiers: identifiersOf(c.GetIdentifier()),
		Status:      codeOf(c.GetStatus()),
		Subject:     ReferenceString(c.GetSubject()),
		Context:     ReferenceString(c.GetContext()),
		Code:        conceptOf(c.GetCode()),
		Modifiers:   modifiersOf(c.GetExtension()),
		Occurrence:  periodOf(c.GetOccurrence().GetPeriod()),
		Reasons:     conceptsOf(c.GetReason()),
		Services:    refsOf(c.GetService()),
	}
	if dt := c.GetOccurrence().GetDateTime(); dt != nil {
		out.Occurrence = Period{Start: dateTimeOf(dt)}
	}
	if v := c.GetQuantity().GetValue().GetValue(); v != "" {
		// google/fhir has validated the decimal; a value beyond float64
		// range is not a charge quantity anyone sends.
		out.Quantity, _ = strconv.ParseFloat(v, 64)
	}
	return out, nil
}

// modifiersOf reads the ExtensionChargeItemModifier extensions: valueCoding,
// each coding of a valueCodeableConcept, or a bare valueCode.
func modifiersOf(exts []*d4pb.Extension) []Coding {
	var out []Coding
	for _, e := range exts {
		if e.GetUrl().GetValue() != ExtensionChargeItemModifier {
			continue
		}
		v := e.GetValue()
		switch {
		case v.GetCoding() != nil:
			out = append(out, codingOf(v.GetCoding()))
		case v.GetCodeableConcept() != nil:
			out = append(out, conceptOf(v.GetCodeableConcept()).Codings...)
		case v.GetCode() != nil:
			out = append(out, Coding{Code: v.GetCode().GetValue()})
		}
	}
	return out
}
