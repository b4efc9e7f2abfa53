package mapping

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping/edits"
	"github.com/codebridge/codebridge/mapping/workitem"

	c4pb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/codes_go_proto"
	d4pb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/datatypes_go_proto"
	r4pb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/bundle_and_contained_resource_go_proto"
	r4claimpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/claim_go_proto"
	r4coveragepb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/coverage_go_proto"
)

// Code systems the Claim uses that the fhir package does not name.
const (
	// SystemClaimIdentifier is the identifier system of the Claims codebridge
	// issues; the value is "{itemID}-v{itemVersion}".
	SystemClaimIdentifier = "urn:codebridge:claim"
	// systemProcessPriority is the R4 processpriority code system.
	systemProcessPriority = "http://terminology.hl7.org/CodeSystem/processpriority"
	// systemRelatedClaim is the R4 related-claim-relationship code system.
	systemRelatedClaim = "http://terminology.hl7.org/CodeSystem/related-claim-relationship"
	// systemCoverageSelfPay is the R4 coverage-selfpay code system.
	systemCoverageSelfPay = "http://terminology.hl7.org/CodeSystem/coverage-selfpay"
	// selfPayID is the id of the contained self-pay Coverage.
	selfPayID = "selfpay"
)

// ErrNoInsurance is returned by BuildClaim when the patient has no active
// Coverage and the self-pay policy is off. FHIR requires at least one
// Claim.insurance, so the caller keeps the item coded with a blocking edit.
var ErrNoInsurance = &workitem.Error{Kind: workitem.Unprocessable,
	Message: "mapping.BuildClaim: no active Coverage and self-pay is not enabled; Claim.insurance is required"}

// CoverageRef is one of the patient's active Coverages and its stored id.
type CoverageRef struct {
	ID       string
	Coverage fhir.Coverage
}

// ClaimOptions are the configurable parts of the Claim policy.
type ClaimOptions struct {
	// InstitutionalClasses are the encounter classes billed as
	// institutional claims; empty means workitem.DefaultInstitutionalClasses.
	InstitutionalClasses []string
	// TelehealthPOS is the place of service of virtual (VR) encounters:
	// "10" (patient's home, the default) or "02" (other than home).
	TelehealthPOS string
	// SelfPay bills patients without an active Coverage through a
	// contained self-pay Coverage instead of failing with ErrNoInsurance.
	SelfPay bool
	// BillingProvider is the billing organization ("Organization/{id}")
	// used when the Encounter has no serviceProvider.
	BillingProvider string
	// Facility is the facility time zone (CODEBRIDGE_FACILITY_TIMEZONE)
	// that dates times sent in UTC; nil means UTC. It must be the zone the
	// edits were checked with (EditChart), so the Claim shows their dates.
	Facility *time.Location
}

// ClaimInput is everything a Claim is built from: the work item's identity,
// the stored Encounter, Patient, Coverages, Practitioners and Organizations,
// and the coded chart.
type ClaimInput struct {
	ClaimID     string
	ItemID      string
	ItemVersion int
	Created     time.Time

	Encounter   fhir.Encounter
	EncounterID string
	Patient     *fhir.Patient
	PatientID   string
	// Coverages are the patient's active Coverages, in billing order.
	Coverages []CoverageRef
	// Practitioners are keyed by "Practitioner/{id}".
	Practitioners map[string]fhir.Practitioner
	// Organizations are keyed by "Organization/{id}".
	Organizations map[string]fhir.Organization

	Diagnoses  []edits.Diagnosis
	Lines      []edits.Line
	Procedures []edits.Procedure
	// POAExempt are the ICD-10-CM codes (storage form) on the POA-exempt
	// list for the stay (LookupPOAExempt): the Claim leaves their POA
	// blank whatever the coder gave.
	POAExempt map[string]bool

	Options ClaimOptions
	// Prior is the "Claim/{id}" this Claim replaces, or "".
	Prior string
}

// BuildClaim builds the R4 Claim of a coded work item. It does no I/O. It
// fails with ErrNoInsurance when there is no insurance to bill, and with an
// Unprocessable *workitem.Error when the input cannot make a valid Claim (no
// billing provider, a diagnosis pointer past the diagnosis list...).
//
// Diagnosis types: the first diagnosis is typed "principal"; the others
// carry no type, because the R4 ex-diagnosistype code system has no
// "secondary" code and their order already makes them secondary.
//
// The claim-assembly rules the edits also report, so that a Claim never
// leaves with them broken even if an edit was missed: ICD-10-PCS
// procedures only on an inpatient institutional claim (PX_NOT_INPATIENT);
// at most 25 diagnoses on an institutional and 12 on a professional claim
// (INST_TOO_MANY_DX, PROF_TOO_MANY_DX); both refused as Unprocessable,
// never dropped or truncated.
func BuildClaim(in ClaimInput) (*r4claimpb.Claim, error) {
	h, err := claimHeader(in)
	if err != nil {
		return nil, err
	}
	if err := claimShape(in, h); err != nil {
		return nil, err
	}
	c := h.claim
	if c.Provider, err = billingProvider(in); err != nil {
		return nil, err
	}
	if c.CareTeam, err = careTeam(in); err != nil {
		return nil, err
	}
	if err := addInsurance(c, in, h.patient); err != nil {
		return nil, err
	}
	if c.Related, err = related(in.Prior); err != nil {
		return nil, err
	}
	c.Diagnosis = diagnoses(in.Diagnoses, h.inpatient, in.POAExempt)
	if h.inpatient {
		c.Procedure = procedures(in.Procedures, in.Encounter.Period.Start)
	}
	if c.Item, err = items(in, h, primarySequence(c.CareTeam)); err != nil {
		return nil, err
	}
	return c, nil
}

// MarshalClaim renders a Claim as compact FHIR JSON. It marshals a copy,
// because the google/fhir marshaller rewrites typed references in place.
func MarshalClaim(c *r4claimpb.Claim) ([]byte, error) {
	return fhir.Marshal(proto.Clone(c))
}

// header is the Claim under construction with the facts its parts share.
type header struct {
	claim         *r4claimpb.Claim
	institutional bool
	// inpatient is an inpatient institutional claim: the one claim that
	// carries ICD-10-PCS procedures and POA indicators.
	inpatient bool
	patient   string    // "Patient/{id}"
	encounter string    // "Encounter/{id}"
	start     time.Time // the encounter's local start date: a line's date of service by default
}

// claimHeader builds the Claim's top-level elements: id, identifier, status,
// type, use, patient, created, billablePeriod and priority.
func claimHeader(in ClaimInput) (header, error) {
	h := header{institutional: isInstitutional(in.Encounter.Class.Code, in.Options.InstitutionalClasses)}
	h.start, _ = in.serviceDates()
	h.inpatient = h.institutional && workitem.Inpatient(in.Encounter.Class.Code)
	h.patient = "Patient/" + firstNonEmpty(in.PatientID, patientID(in.Patient), refID(in.Encounter.Subject, "Patient"))
	h.encounter = "Encounter/" + firstNonEmpty(in.EncounterID, in.Encounter.ID)
	if in.Created.IsZero() {
		return h, workitem.Errorf(workitem.Unprocessable, "mapping.BuildClaim: Claim.created is required")
	}
	if h.patient == "Patient/" || h.encounter == "Encounter/" {
		return h, workitem.Errorf(workitem.Unprocessable, "mapping.BuildClaim: Claim.patient and item.encounter need the patient and encounter ids")
	}
	claimType := "professional"
	if h.institutional {
		claimType = "institutional"
	}
	c := &r4claimpb.Claim{
		Identifier: []*d4pb.Identifier{{
			System: &d4pb.Uri{Value: SystemClaimIdentifier},
			Value:  &d4pb.String{Value: in.ItemID + "-v" + strconv.Itoa(in.ItemVersion)},
		}},
		Status:         &r4claimpb.Claim_StatusCode{Value: c4pb.FinancialResourceStatusCode_ACTIVE},
		Type:           concept(fhir.SystemClaimType, claimType),
		Use:            &r4claimpb.Claim_UseCode{Value: c4pb.UseCode_CLAIM},
		Created:        dateTime(in.Created),
		BillablePeriod: billablePeriod(in),
		Priority:       concept(systemProcessPriority, "normal"),
	}
	if in.ClaimID != "" {
		c.Id = &d4pb.Id{Value: in.ClaimID}
	}
	var err error
	if c.Patient, err = reference(h.patient); err != nil {
		return h, err
	}
	h.claim = c
	return h, nil
}

// claimShape refuses what the claim form cannot carry: ICD-10-PCS
// procedures outside an inpatient institutional claim, and more diagnoses
// than the form has (edits.MaxDiagnoses).
func claimShape(in ClaimInput, h header) error {
	if len(in.Procedures) > 0 && !h.inpatient {
		return workitem.Errorf(workitem.Unprocessable,
			"mapping.BuildClaim: procedures: ICD-10-PCS procedures are reported on inpatient institutional claims only (PX_NOT_INPATIENT)")
	}
	typ := edits.Professional
	if h.institutional {
		typ = edits.Institutional
	}
	if limit := edits.MaxDiagnoses(typ); len(in.Diagnoses) > limit {
		return workitem.Errorf(workitem.Unprocessable,
			"mapping.BuildClaim: diagnoses: %d coded, a %s claim carries at most %d", len(in.Diagnoses), typ, limit)
	}
	return nil
}

// isInstitutional reports whether class is billed on an institutional claim.
func isInstitutional(class string, classes []string) bool {
	return slices.Contains(workitem.InstitutionalClasses(classes), class)
}

// billingProvider is Claim.provider: the Encounter's serviceProvider, or the
// configured billing provider, with the organization's NPI when known.
func billingProvider(in ClaimInput) (*d4pb.Reference, error) {
	ref := firstNonEmpty(in.Encounter.ServiceProvider, in.Options.BillingProvider)
	if ref == "" {
		return nil, workitem.Errorf(workitem.Unprocessable,
			"mapping.BuildClaim: Claim.provider: the Encounter has no serviceProvider and no billing provider is configured")
	}
	r, err := reference(ref)
	if err != nil {
		return nil, err
	}
	if org, ok := in.Organizations[ref]; ok && org.NPI != "" {
		r.Identifier = npiIdentifier(org.NPI)
	}
	return r, nil
}

// careTeam lists the Encounter's practitioner participants once each, in
// order of first appearance, with the strongest role any of their
// participations gives: attending (ATND) and primary performer (PPRF) are
// "primary", secondary performer (SPRF) "assist", anything else "other".
// Practitioners with an NPI carry it as the reference's identifier; other
// participants (PractitionerRole, RelatedPerson) are left out.
func careTeam(in ClaimInput) ([]*r4claimpb.Claim_CareTeam, error) {
	var order []string
	types := map[string][]fhir.Concept{}
	for _, p := range in.Encounter.Participants {
		if refID(p.Individual, "Practitioner") == "" {
			continue
		}
		if _, ok := types[p.Individual]; !ok {
			order = append(order, p.Individual)
		}
		types[p.Individual] = append(types[p.Individual], p.Types...)
	}
	out := make([]*r4claimpb.Claim_CareTeam, 0, len(order))
	for i, ref := range order {
		r, err := reference(ref)
		if err != nil {
			return nil, err
		}
		if pr, ok := in.Practitioners[ref]; ok && pr.NPI != "" {
			r.Identifier = npiIdentifier(pr.NPI)
		}
		out = append(out, &r4claimpb.Claim_CareTeam{
			Sequence: positive(i + 1),
			Provider: r,
			Role:     concept(fhir.SystemCareTeamRole, careTeamRole(types[ref])),
		})
	}
	return out, nil
}

// careTeamRole maps Encounter.participant.type codes to a claimcareteamrole.
func careTeamRole(types []fhir.Concept) string {
	role := "other"
	for _, t := range types {
		switch t.Code(fhir.SystemParticipantType) {
		case "ATND", "PPRF":
			return "primary"
		case "SPRF":
			role = "assist"
		}
	}
	return role
}

// primarySequence returns the sequence of the first primary care-team
// member (the rendering provider of every line), or 0.
func primarySequence(team []*r4claimpb.Claim_CareTeam) int {
	for _, m := range team {
		if m.GetRole().GetCoding()[0].GetCode().GetValue() == "primary" {
			return int(m.GetSequence().GetValue())
		}
	}
	return 0
}

// addInsurance sets Claim.insurance from the active Coverages in order, the
// first focal; without any, a contained self-pay Coverage when the policy
// allows it, else ErrNoInsurance.
func addInsurance(c *r4claimpb.Claim, in ClaimInput, patient string) error {
	refs := make([]string, 0, len(in.Coverages))
	for _, cv := range in.Coverages {
		refs = append(refs, "Coverage/"+firstNonEmpty(cv.ID, cv.Coverage.ID))
	}
	if len(refs) == 0 {
		if !in.Options.SelfPay {
			return ErrNoInsurance
		}
		cov, err := selfPayCoverage(patient)
		if err != nil {
			return err
		}
		c.Contained = []*anypb.Any{cov}
		refs = []string{"#" + selfPayID}
	}
	for i, ref := range refs {
		r, err := reference(ref)
		if err != nil {
			return err
		}
		c.Insurance = append(c.Insurance, &r4claimpb.Claim_Insurance{
			Sequence: positive(i + 1),
			Focal:    &d4pb.Boolean{Value: i == 0},
			Coverage: r,
		})
	}
	return nil
}

// selfPayCoverage is the contained Coverage of a self-paying patient: type
// coverage-selfpay "pay", the patient both beneficiary and payor.
func selfPayCoverage(patient string) (*anypb.Any, error) {
	ben, err := reference(patient)
	if err != nil {
		return nil, err
	}
	payor, err := reference(patient)
	if err != nil {
		return nil, err
	}
	cov := &r4coveragepb.Coverage{
		Id:          &d4pb.Id{Value: selfPayID},
		Status:      &r4coveragepb.Coverage_StatusCode{Value: c4pb.FinancialResourceStatusCode_ACTIVE},
		Type:        concept(systemCoverageSelfPay, "pay"),
		Beneficiary: ben,
		Payor:       []*d4pb.Reference{payor},
	}
	a, err := anypb.New(&r4pb.ContainedResource{OneofResource: &r4pb.ContainedResource_Coverage{Coverage: cov}})
	if err != nil {
		return nil, fmt.Errorf("mapping.BuildClaim: contained Coverage: %w", err)
	}
	return a, nil
}

// related links a replacement Claim to the one it replaces.
func related(prior string) ([]*r4claimpb.Claim_RelatedClaim, error) {
	if prior == "" {
		return nil, nil
	}
	if refID(prior, "Claim") == "" {
		return nil, workitem.Errorf(workitem.Unprocessable, "mapping.BuildClaim: Claim.related.claim must be a Claim reference")
	}
	r, err := reference(prior)
	if err != nil {
		return nil, err
	}
	return []*r4claimpb.Claim_RelatedClaim{{Claim: r, Relationship: concept(systemRelatedClaim, "prior")}}, nil
}

// patientID returns p's id, or "" for a nil p.
func patientID(p *fhir.Patient) string {
	if p == nil {
		return ""
	}
	return p.ID
}

// firstNonEmpty returns the first non-empty string, or "".
func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
