package edits

import (
	"time"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// Sex is the patient's administrative sex as the code-set edits read it.
type Sex string

// The sexes the edits distinguish; anything else (including "") is not
// checked against sex-specific codes.
const (
	Male    Sex = "male"
	Female  Sex = "female"
	Unknown Sex = "unknown"
)

// ClaimType is the claim form the chart will be billed on.
type ClaimType string

// The claim types: professional (837P / CMS-1500) and institutional (837I /
// UB-04).
const (
	Professional  ClaimType = "professional"
	Institutional ClaimType = "institutional"
)

// Chart is a coded encounter as the edit engine sees it. It holds no names
// or identifiers; edits never echo anything but codes.
type Chart struct {
	Sex       Sex
	BirthDate time.Time
	// Class is the FHIR v3-ActCode encounter class: AMB, IMP, ACUTE, NONAC,
	// EMER, VR (virtual, i.e. telehealth), OBSENC, HH, SS, PRENC.
	Class     string
	ClaimType ClaimType
	// Start and End are the dates of service; End may be zero.
	Start, End time.Time
	// Diagnoses are in sequence: the first is the principal (inpatient) or
	// first-listed (outpatient) diagnosis.
	Diagnoses  []Diagnosis
	Lines      []Line
	Procedures []Procedure
}

// Diagnosis is one ICD-10-CM code with its present-on-admission indicator.
type Diagnosis struct {
	Code string
	POA  string
}

// Line is one service line: a CPT or HCPCS code.
type Line struct {
	Code      string
	Modifiers []string
	Units     int
	// Diagnoses are 1-based pointers into Chart.Diagnoses.
	Diagnoses []int
	// ServiceDate defaults to Chart.Start when zero.
	ServiceDate time.Time
	// PlaceOfService is the CMS place-of-service code, e.g. "02" or "10"
	// for telehealth.
	PlaceOfService string
}

// Procedure is one ICD-10-PCS procedure of an inpatient stay.
type Procedure struct {
	Code string
	// Date defaults to Chart.Start when zero.
	Date time.Time
}

// inpatient reports whether the encounter class is an inpatient stay
// (workitem.Inpatient: IMP, ACUTE, NONAC).
func (c Chart) inpatient() bool { return workitem.Inpatient(c.Class) }

// InpatientClaim reports whether c is billed on an inpatient institutional
// claim (837I / UB-04 type of bill 11x): an inpatient class billed
// institutional. Only such claims carry ICD-10-PCS procedures and POA
// indicators.
func (c Chart) InpatientClaim() bool { return c.ClaimType == Institutional && c.inpatient() }

// claimKind names the claim for messages: "inpatient institutional",
// "outpatient institutional" or "professional".
func (c Chart) claimKind() string {
	switch {
	case c.InpatientClaim():
		return "inpatient institutional"
	case c.ClaimType == Institutional:
		return "outpatient institutional"
	}
	return "professional"
}

// poaDate is the date the POA-exempt list is looked up for: the one date
// both the POA edit and the Claim's POA (POAExemptCodes) use.
func (c Chart) poaDate() time.Time { return c.Start }

// Severity says whether an edit blocks submission.
type Severity string

// The severities: errors block submission, warnings ask for review.
const (
	Error   Severity = "error"
	Warning Severity = "warning"
)

// Edit is one finding on a chart.
type Edit struct {
	// Code is stable and machine-readable, e.g. "DX_HEADER".
	Code     string   `json:"code"`
	Severity Severity `json:"severity"`
	// Message names the codes and the rule; it never carries patient data.
	Message string `json:"message"`
	// Target is the path of the offending element, e.g. "diagnoses[1]" or
	// "lines[0].units".
	Target string `json:"target"`
}
