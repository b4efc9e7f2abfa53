package workitem

import (
	"slices"
	"sort"
	"strings"
)

// MayCode says whether a may change the codes of it: the coder holding the
// lease while it is in_progress, an auditor while it is in_review, and an
// admin on either. The error is Conflict when the item is leased to
// another coder or is in no coding status, Forbidden when a's role may not
// code an item in its status.
func MayCode(it Item, a Actor) error {
	switch {
	case a.Role == RoleAdmin && (it.Status == InProgress || it.Status == InReview):
		return nil
	case it.Status == InProgress && a.Role == RoleCoder:
		if it.Assignee != a.Name {
			return Errorf(Conflict, "work item %s is leased to another coder", it.ID)
		}
		return nil
	case it.Status == InReview && a.Role == RoleAuditor:
		return nil
	case it.Status == InReview || it.Status == InProgress:
		return Errorf(Forbidden, "role %s may not code a %s work item", a.Role, it.Status)
	}
	return Errorf(Conflict, "codes can change only while a work item is in_progress (leased) or in_review; it is %s", it.Status)
}

// MaySubmit says whether a may submit it: whoever may code it (MayCode).
// A coder's submit completes coding; an auditor's completes the review.
func MaySubmit(it Item, a Actor) error { return MayCode(it, a) }

// MayOpenQuery says whether a may raise a physician query on it: the coder
// holding its lease, or an admin, while it is in_progress. The error is
// Forbidden for another role, Conflict otherwise.
func MayOpenQuery(it Item, a Actor) error {
	if !a.Role.Permitted(RoleCoder) {
		return Errorf(Forbidden, "role %s may not raise a physician query", a.Role)
	}
	if it.Status != InProgress || (it.Assignee != a.Name && a.Role != RoleAdmin) {
		return Errorf(Conflict, "a query can be raised only on an item you have leased (it is %s)", it.Status)
	}
	return nil
}

// MayAnswerQuery says whether role r may answer a physician query: the EHR
// (for the physician), a coder, or an admin. The error is Forbidden.
func MayAnswerQuery(r Role) error {
	if r.Permitted(RoleEHR, RoleCoder) {
		return nil
	}
	return Errorf(Forbidden, "role %s may not answer a physician query", r)
}

// RefuseOnEdits says whether an assignment with diagnoses diagnoses and
// the edits es may be submitted: never without a diagnosis, never while an
// error edit stands, and with warnings only when acknowledged (ack). The
// refusal is Unprocessable, with an issue per edit (carrying the edit's
// rule and rule text).
func RefuseOnEdits(es []Edit, ack bool, diagnoses int) error {
	var issues []Issue
	hasErr, hasWarn := false, false
	for _, e := range es {
		issues = append(issues, Issue{Severity: e.Severity, Code: e.Code, Diagnostics: e.Message, Expression: []string{e.Target},
			Rule: e.Rule, RuleText: e.RuleText})
		hasErr = hasErr || e.Severity == "error"
		hasWarn = hasWarn || e.Severity == "warning"
	}
	switch {
	case diagnoses == 0:
		return Errorf(Unprocessable, "no diagnoses assigned").WithIssues(Issue{Severity: "error", Code: "DX_PRINCIPAL_MISSING", Diagnostics: "assign at least one diagnosis", Expression: []string{"diagnoses"}})
	case hasErr:
		return Errorf(Unprocessable, "error edits stand; fix them before submitting").WithIssues(issues...)
	case hasWarn && !ack:
		return Errorf(Unprocessable, "warnings stand; review them and submit with acknowledgeWarnings=true").WithIssues(issues...)
	}
	return nil
}

// ChangedDocumentation lists, sorted, the clinical resources (not Patient
// or Coverage) that are new or have a new version in after (reference →
// version) compared with before.
func ChangedDocumentation(before, after map[string]int) []string {
	var out []string
	for ref, v := range after {
		if strings.HasPrefix(ref, "Patient/") || strings.HasPrefix(ref, "Coverage/") {
			continue
		}
		if before[ref] != v {
			out = append(out, ref)
		}
	}
	sort.Strings(out)
	return out
}

// NextStatus decides the status of an item at cur after a re-derivation
// from new or changed documentation: want is the status the Encounter
// alone calls for (pending, ready or cancelled) and changed the clinical
// resources that changed (ChangedDocumentation). reason is "" when the
// status stays.
func NextStatus(cur, want Status, changed []string) (next Status, reason string) {
	switch {
	case want == Cancelled && cur != Cancelled:
		return Cancelled, "encounter withdrawn"
	case cur == Cancelled && want != Cancelled:
		return want, "encounter reinstated"
	case cur == Pending && want == Ready:
		return Ready, "encounter finished"
	case cur == Ready && want == Pending:
		return Pending, "encounter no longer finished"
	case len(changed) > 0 && (cur == Coded || cur == InReview || cur == Completed):
		return Reopened, "new documentation: " + strings.Join(changed, ", ")
	}
	return cur, ""
}

// InpatientClasses are the FHIR v3-ActCode encounter classes of an
// inpatient stay: IMP (inpatient encounter), ACUTE (inpatient acute) and
// NONAC (inpatient non-acute). Every rule that depends on "inpatient" (POA
// reporting, ICD-10-PCS on the claim, QA routing, straight-through,
// priority, place of service 21) asks Inpatient.
var InpatientClasses = []string{"IMP", "ACUTE", "NONAC"}

// Inpatient reports whether an encounter class is an inpatient stay.
func Inpatient(class string) bool { return slices.Contains(InpatientClasses, class) }

// DefaultInstitutionalClasses are the encounter classes billed on an
// institutional claim (837I / FHIR Claim type institutional) when
// CODEBRIDGE_INSTITUTIONAL_CLASSES does not say otherwise: inpatient and
// acute stays, emergency and observation encounters.
var DefaultInstitutionalClasses = []string{"IMP", "ACUTE", "EMER", "OBSENC"}

// InstitutionalClasses resolves the configured institutional classes:
// configured itself, or DefaultInstitutionalClasses when it is empty. The
// claim builder, the edits, QA routing and the workbench all resolve them
// here, so they cannot disagree.
func InstitutionalClasses(configured []string) []string {
	if len(configured) == 0 {
		return DefaultInstitutionalClasses
	}
	return configured
}

// RouteCoded decides where a coded item of encounter class goes: InReview
// (QA) for every inpatient stay billed on an institutional claim, and for
// a share rate of the rest; Completed otherwise. institutional are the
// configured institutional classes (CODEBRIDGE_INSTITUTIONAL_CLASSES);
// empty reviews every inpatient class (Inpatient), NONAC included. draw
// returns a number in [0, 1) (rand.Float64); it is called only for items
// not reviewed by class.
func RouteCoded(class string, institutional []string, rate float64, draw func() float64) Status {
	inpatient := Inpatient(class)
	if inpatient && slices.Contains(InstitutionalClasses(institutional), class) {
		return InReview
	}
	if draw() < rate {
		return InReview
	}
	return Completed
}
