package workitem

import (
	"context"
	"unicode/utf8"

	"github.com/codebridge/codebridge/mapping/codes"
)

// Assignment is a coder's code assignment for one work item: the body of
// PUT /api/v1/work-items/{id}/codes.
type Assignment struct {
	// Diagnoses are in sequence: the first is principal / first-listed.
	Diagnoses []AssignedDiagnosis `json:"diagnoses"`
	// Lines are CPT/HCPCS service lines.
	Lines []AssignedLine `json:"lines"`
	// Procedures are ICD-10-PCS procedures (inpatient).
	Procedures []AssignedProcedure `json:"procedures,omitempty"`
}

// AssignedDiagnosis is one ICD-10-CM code with its POA indicator.
type AssignedDiagnosis struct {
	Code string `json:"code"`
	POA  string `json:"poa,omitempty"`
}

// AssignedLine is one service line.
type AssignedLine struct {
	Code           string   `json:"code"`
	Modifiers      []string `json:"modifiers,omitempty"`
	Units          int      `json:"units"`
	Diagnoses      []int    `json:"diagnoses"` // 1-based pointers into Diagnoses
	ServiceDate    string   `json:"serviceDate,omitempty"`
	PlaceOfService string   `json:"placeOfService,omitempty"`
}

// AssignedProcedure is one ICD-10-PCS procedure.
type AssignedProcedure struct {
	Code string `json:"code"`
	Date string `json:"date,omitempty"`
}

// Edit is one finding of the claim edits on an assignment.
type Edit struct {
	Code     string `json:"code"`
	Severity string `json:"severity"` // error or warning
	Message  string `json:"message"`
	Target   string `json:"target,omitempty"`
	// Covers is, on a coverage note (a rule set not loaded: CPT_UNVERIFIED,
	// NO_RELEASE_FOR_DOS), the code set or NCCI table it names (codes.System:
	// cpt, icd10cm, hcpcs, mue, ptp, ...); "" on a finding about the chart.
	Covers string `json:"covers,omitempty"`
	// Rule and RuleText name the source of the rule the edit applies and
	// quote it (edits.Edit); empty where the message says it all.
	Rule     string `json:"rule,omitempty"`
	RuleText string `json:"ruleText,omitempty"`
}

// Query is a physician query raised by a coder.
type Query struct {
	ID         string   `json:"id"`
	Question   string   `json:"question"`
	Indicators []string `json:"indicators,omitempty"`
	Options    []string `json:"options,omitempty"`
	Status     string   `json:"status"` // open or answered
	AskedBy    string   `json:"askedBy"`
	AskedAt    string   `json:"askedAt"`
	Answer     string   `json:"answer,omitempty"`
	AnsweredBy string   `json:"answeredBy,omitempty"`
	AnsweredAt string   `json:"answeredAt,omitempty"`
}

// HasErrors reports whether any edit is an error.
func HasErrors(es []Edit) bool {
	for _, e := range es {
		if e.Severity == "error" {
			return true
		}
	}
	return false
}

// Actor is who acts on a work item, with the role the rules depend on.
type Actor struct {
	Name string
	Role Role
}

// ValidActorName reports whether name may name an actor: non-empty, at most
// 255 bytes, valid UTF-8 without control characters. An actor's name goes
// to logs, history and audit rows and lease ownership, so a token's subject
// that fails this is refused at sign-in (API JWTs and workbench OIDC alike).
func ValidActorName(name string) bool {
	if name == "" || len(name) > 255 || !utf8.ValidString(name) {
		return false
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// Checker runs the claim edits on a chart and an assignment, looking codes
// up in lk. The store gives it a lookup on the transaction that holds the
// work item (never one carried in ctx), so the edits of a coding action run
// on that action's connection.
type Checker func(ctx context.Context, lk codes.Lookup, chart *Chart, a Assignment) ([]Edit, error)

// SubmitOptions tune a submit.
type SubmitOptions struct {
	AcknowledgeWarnings bool
	QASampleRate        float64 // share of coded items routed to QA review
}
