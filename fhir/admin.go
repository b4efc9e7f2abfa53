package fhir

import (
	"strings"
	"time"

	r4coveragepb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/coverage_go_proto"
	r4docrefpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/document_reference_go_proto"
	r4orgpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/organization_go_proto"
	r4patientpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/patient_go_proto"
	r4practitionerpb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/practitioner_go_proto"
)

// Patient holds what the mapping layer needs from an R4 Patient.
type Patient struct {
	ID          string
	Identifiers []Identifier
	Names       []HumanName
	Gender      string // male | female | other | unknown
	BirthDate   string // as precise as sent: "1974", "1974-12" or "1974-12-25"
}

// PatientOf extracts a Patient from a parsed resource.
func PatientOf(res *Resource) (Patient, error) {
	p, ok := msgOf[*r4patientpb.Patient](res)
	if !ok {
		return Patient{}, errType("Patient", res)
	}
	return Patient{
		ID:          p.GetId().GetValue(),
		Identifiers: identifiersOf(p.GetIdentifier()),
		Names:       namesOf(p.GetName()),
		Gender:      codeOf(p.GetGender()),
		BirthDate:   dateString(p.GetBirthDate()),
	}, nil
}

// msgOf returns res.Msg as T.
func msgOf[T any](res *Resource) (T, bool) {
	var zero T
	if res == nil {
		return zero, false
	}
	t, ok := res.Msg.(T)
	return t, ok
}

// Coverage holds what the mapping layer needs from an R4 Coverage.
type Coverage struct {
	ID           string
	Identifiers  []Identifier
	Status       string // e.g. "active"
	Type         Concept
	Beneficiary  string
	Subscriber   string
	SubscriberID string
	Relationship string // code, e.g. "self"
	Payors       []string
	Order        int // 0 when absent
	Period       Period
	Classes      []CoverageClass
}

// CoverageClass is one Coverage.class (group, plan...).
type CoverageClass struct {
	Type, Value, Name string
}

// CoverageOf extracts a Coverage from a parsed resource.
func CoverageOf(res *Resource) (Coverage, error) {
	c, ok := msgOf[*r4coveragepb.Coverage](res)
	if !ok {
		return Coverage{}, errType("Coverage", res)
	}
	out := Coverage{
		ID:           c.GetId().GetValue(),
		Identifiers:  identifiersOf(c.GetIdentifier()),
		Status:       codeOf(c.GetStatus()),
		Type:         conceptOf(c.GetType()),
		Beneficiary:  ReferenceString(c.GetBeneficiary()),
		Subscriber:   ReferenceString(c.GetSubscriber()),
		SubscriberID: c.GetSubscriberId().GetValue(),
		Relationship: conceptOf(c.GetRelationship()).Code(""),
		Payors:       refsOf(c.GetPayor()),
		Order:        int(c.GetOrder().GetValue()),
		Period:       periodOf(c.GetPeriod()),
	}
	for _, cl := range c.GetClassValue() {
		out.Classes = append(out.Classes, CoverageClass{
			Type:  conceptOf(cl.GetType()).Code(""),
			Value: cl.GetValue().GetValue(),
			Name:  cl.GetName().GetValue(),
		})
	}
	return out, nil
}

// Practitioner holds what the mapping layer needs from an R4 Practitioner.
type Practitioner struct {
	ID          string
	Identifiers []Identifier
	Names       []HumanName
	NPI         string // first identifier with system SystemNPI
}

// PractitionerOf extracts a Practitioner from a parsed resource.
func PractitionerOf(res *Resource) (Practitioner, error) {
	p, ok := msgOf[*r4practitionerpb.Practitioner](res)
	if !ok {
		return Practitioner{}, errType("Practitioner", res)
	}
	ids := identifiersOf(p.GetIdentifier())
	return Practitioner{ID: p.GetId().GetValue(), Identifiers: ids, Names: namesOf(p.GetName()), NPI: npiOf(ids)}, nil
}

// Organization holds what the mapping layer needs from an R4 Organization.
type Organization struct {
	ID          string
	Identifiers []Identifier
	Name        string
	NPI         string
	Types       []Concept
	PartOf      string
}

// OrganizationOf extracts an Organization from a parsed resource.
func OrganizationOf(res *Resource) (Organization, error) {
	o, ok := msgOf[*r4orgpb.Organization](res)
	if !ok {
		return Organization{}, errType("Organization", res)
	}
	ids := identifiersOf(o.GetIdentifier())
	return Organization{
		ID: o.GetId().GetValue(), Identifiers: ids, Name: o.GetName().GetValue(),
		NPI: npiOf(ids), Types: conceptsOf(o.GetType()), PartOf: ReferenceString(o.GetPartOf()),
	}, nil
}

// DocumentReference holds what the mapping layer needs from an R4
// DocumentReference (clinical notes for coders).
type DocumentReference struct {
	ID          string
	Identifiers []Identifier
	Status      string // current | superseded | entered-in-error
	Subject     string
	Encounters  []string // context.encounter
	Type        Concept
	Date        time.Time
	Attachments []Attachment
}

// Attachment is one DocumentReference.content.attachment.
type Attachment struct {
	ContentType string
	Title       string
	URL         string // set when the note is by reference
	// Text is the decoded data of a text/* attachment (text/plain,
	// text/html...); "" for binary types or url-only attachments.
	Text string
	// Size is the length of the decoded data in bytes.
	Size int
}

// DocumentReferenceOf extracts a DocumentReference from a parsed resource.
func DocumentReferenceOf(res *Resource) (DocumentReference, error) {
	d, ok := msgOf[*r4docrefpb.DocumentReference](res)
	if !ok {
		return DocumentReference{}, errType("DocumentReference", res)
	}
	out := DocumentReference{
		ID:          d.GetId().GetValue(),
		Identifiers: identifiersOf(d.GetIdentifier()),
		Status:      codeOf(d.GetStatus()),
		Subject:     ReferenceString(d.GetSubject()),
		Encounters:  refsOf(d.GetContext().GetEncounter()),
		Type:        conceptOf(d.GetType()),
	}
	if dt := d.GetDate(); dt != nil {
		out.Date = timeOf(dt.GetValueUs(), dt.GetTimezone())
	}
	for _, c := range d.GetContent() {
		a := c.GetAttachment()
		att := Attachment{
			ContentType: a.GetContentType().GetValue(),
			Title:       a.GetTitle().GetValue(),
			URL:         a.GetUrl().GetValue(),
			Size:        len(a.GetData().GetValue()),
		}
		if strings.HasPrefix(strings.ToLower(att.ContentType), "text/") {
			att.Text = strings.ToValidUTF8(string(a.GetData().GetValue()), "\uFFFD")
		}
		out.Attachments = append(out.Attachments, att)
	}
	return out, nil
}
