package workitem

import "time"

// Chart is what a coder reads: everything documented for one Encounter,
// derived from the stored resources by mapping.BuildChart.
type Chart struct {
	Encounter      EncounterView     `json:"encounter"`
	PatientSummary *PatientView      `json:"patientSummary"`
	Conditions     []DocumentedItem  `json:"conditions"`
	Procedures     []DocumentedItem  `json:"procedures"`
	Documents      []Document        `json:"documents"`
	Charges        []Charge          `json:"charges,omitempty"`
	SuggestedCodes []SuggestedCode   `json:"suggestedCodes"`
	Coverage       []CoverageView    `json:"coverage,omitempty"`
	Practitioners  []ParticipantView `json:"participants,omitempty"`
	Notes          []string          `json:"notes,omitempty"` // mapping remarks (e.g. unknown class)
	Sources        map[string]int    `json:"-"`               // reference -> version, for change detection
}

// EncounterView is the Encounter as the chart shows it.
type EncounterView struct {
	Reference string     `json:"reference"`
	Status    string     `json:"status"`
	Class     string     `json:"class"`
	Type      []Coding   `json:"type,omitempty"`
	Start     *time.Time `json:"start,omitempty"` // in UTC
	End       *time.Time `json:"end,omitempty"`   // in UTC
	// StartAsSent and EndAsSent are the period as the EHR sent it: in its
	// own UTC offset ("2025-09-30T21:00:00-05:00"), "Z" for UTC, or a bare
	// date. The date of service is the local date they give
	// (mapping.EncounterDates).
	StartAsSent     string   `json:"startAsSent,omitempty"`
	EndAsSent       string   `json:"endAsSent,omitempty"`
	ServiceProvider string   `json:"serviceProvider,omitempty"`
	Location        []string `json:"location,omitempty"`
	// Diagnoses are the Encounter.diagnosis entries as sent, in their
	// order: which Condition, its rank and its use.
	Diagnoses []EncounterDiagnosis `json:"diagnoses,omitempty"`
}

// EncounterDiagnosis is one Encounter.diagnosis entry.
type EncounterDiagnosis struct {
	Condition string `json:"condition"`      // Condition/{id}
	Rank      int    `json:"rank,omitempty"` // 0 when absent
	Use       string `json:"use,omitempty"`  // diagnosis-role code: AD, DD, billing...
}

// PatientView is the patient as the chart shows it (inside the app only).
type PatientView struct {
	Reference string `json:"reference"`
	Name      string `json:"name,omitempty"`
	Gender    string `json:"gender,omitempty"`
	BirthDate string `json:"birthDate,omitempty"`
}

// Coding is one FHIR coding.
type Coding struct {
	System  string `json:"system"`
	Code    string `json:"code"`
	Display string `json:"display,omitempty"`
}

// DocumentedItem is a Condition or Procedure as documented by the EHR.
// Conditions keep every verification status: refuted and entered-in-error
// ones are shown as context and never coded.
type DocumentedItem struct {
	Reference string   `json:"reference"`
	Status    string   `json:"status,omitempty"` // a Condition's clinicalStatus, a Procedure's status
	Category  []string `json:"category,omitempty"`
	Codings   []Coding `json:"codings"`
	Text      string   `json:"text,omitempty"`
	Date      string   `json:"date,omitempty"`
	Rank      int      `json:"rank,omitempty"` // Encounter.diagnosis rank when given
	Use       string   `json:"use,omitempty"`  // Encounter.diagnosis use (AD, DD, billing...)

	// VerificationStatus is a Condition's verificationStatus (confirmed,
	// provisional, differential, unconfirmed, refuted, entered-in-error),
	// "" when not sent.
	VerificationStatus string `json:"verificationStatus,omitempty"`
}

// Document is a DocumentReference's readable content.
type Document struct {
	Reference   string `json:"reference"`
	Type        string `json:"type,omitempty"`
	Date        string `json:"date,omitempty"`
	ContentType string `json:"contentType,omitempty"`
	Text        string `json:"text,omitempty"`
	URL         string `json:"url,omitempty"`
}

// Charge is a ChargeItem (a charge line, e.g. an HL7 v2 FT1 segment) as
// the chart shows it.
type Charge struct {
	Reference string   `json:"reference"`
	Status    string   `json:"status,omitempty"`
	Codings   []Coding `json:"codings"`
	Text      string   `json:"text,omitempty"`
	Modifiers []string `json:"modifiers,omitempty"`
	Quantity  float64  `json:"quantity,omitempty"`
	Date      string   `json:"date,omitempty"` // occurrence start, RFC 3339 in UTC like the other chart dates
	// ServiceDate is the date of service (YYYY-MM-DD) in the occurrence's
	// own offset: a late-evening charge keeps its local date.
	ServiceDate string   `json:"serviceDate,omitempty"`
	Reasons     []Coding `json:"reasons,omitempty"` // the diagnoses the charge is for
}

// SuggestedCode is a code the EHR already sent, proposed to the coder.
// Lines suggested from a ChargeItem also carry its modifiers, units,
// service date and diagnosis pointers.
type SuggestedCode struct {
	System  string `json:"system"` // icd10cm, icd10pcs, cpt, hcpcs
	Code    string `json:"code"`
	Display string `json:"display,omitempty"`
	Source  string `json:"source"` // the resource it came from
	Kind    string `json:"kind"`   // diagnosis or procedure
	// Modifiers are the line's procedure modifiers, in billing order.
	Modifiers []string `json:"modifiers,omitempty"`
	// Units is the line's service units; 0 means not stated (one).
	Units int `json:"units,omitempty"`
	// Diagnoses are 1-based pointers into the suggested diagnoses (in
	// their order), for the charge's reason codes that are among them.
	Diagnoses []int `json:"diagnoses,omitempty"`
	// ServiceDate is the charge's date of service, YYYY-MM-DD.
	ServiceDate string `json:"serviceDate,omitempty"`
}

// CoverageView is one of the patient's Coverages.
type CoverageView struct {
	Reference string `json:"reference"`
	Status    string `json:"status,omitempty"`
	Payor     string `json:"payor,omitempty"`
	Order     int    `json:"order,omitempty"`
}

// ParticipantView is a practitioner on the encounter.
type ParticipantView struct {
	Reference string `json:"reference"`
	Type      string `json:"type,omitempty"`
}
