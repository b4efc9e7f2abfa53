package edits

import (
	"time"

	"github.com/codebridge/codebridge/mapping/codes"
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
	// Start and End are the encounter's local calendar dates (civil
	// dates, midnight UTC: see mapping.EncounterDates); End may be zero.
	// Start is the date of service of an outpatient or professional
	// chart; an inpatient stay billed on an institutional claim takes its
	// code sets by End, the discharge date (codeSetDate).
	Start, End time.Time
	// Diagnoses are in sequence: the first is the principal (inpatient) or
	// first-listed (outpatient) diagnosis.
	Diagnoses  []Diagnosis
	Lines      []Line
	Procedures []Procedure
	// Medicare says the payer is Medicare (the caller decides how a payer
	// is recognised; see mapping.IsMedicare). It sets the severity of an
	// MUE of 0, a Medicare payment rule (MUE_ZERO).
	Medicare bool
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

// codeSetDate is the date that chooses the ICD-10-CM, ICD-10-PCS and
// POA-exempt releases for the chart as a whole: the discharge date of an
// inpatient stay billed on an institutional claim, as CMS groups inpatient
// claims by discharge ("diagnosis codes must be reported based on the date
// of service (including, when applicable, the date of discharge)",
// Medicare Claims Processing Manual, Pub. 100-04, ch. 23, sec. 10.2; the
// MS-DRG grouper version is chosen by discharge date), else the date of
// service. An inpatient stay without a discharge date falls back on the
// admission date and gets NO_DISCHARGE_DATE. It is also the date the
// POA-exempt list is looked up for, by the POA edit and by the Claim's POA
// (POAExemptCodes) alike.
func (c Chart) codeSetDate() time.Time {
	if c.InpatientClaim() && !c.End.IsZero() {
		return c.End
	}
	return c.Start
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
	// Covers is, on a coverage note (IsCoverageNote), the code set or NCCI
	// table that was not loaded; "" on every other edit.
	Covers codes.System `json:"covers,omitempty"`
	// Rule names the source of the rule the edit applies, precisely
	// enough to look it up: "ICD-10-CM Official Guidelines FY2026
	// I.C.20", "MCE v43.1 Manifestation codes not allowed as principal
	// diagnosis", "ICD-10-CM Tabular List FY2027, Excludes1 at E10". ""
	// where the message says it all (a code not in the code set).
	Rule string `json:"rule,omitempty"`
	// RuleText is the rule's own words (the guideline sentence, the
	// Tabular note), for the coder to read beside the codes; "" when
	// Rule is.
	RuleText string `json:"ruleText,omitempty"`
}
