package workitem

import (
	"errors"
	"fmt"
)

// Kind classifies an error so the edge can answer with the right status.
type Kind int

// The error kinds. Their HTTP mapping lives in adapters/httpapi.
const (
	Internal         Kind = iota // a bug or an unexpected failure: 500
	Invalid                      // malformed input: 400
	Unauthorized                 // no or unknown credentials: 401
	Forbidden                    // credentials lack the role: 403
	NotFound                     // 404
	Conflict                     // state or version conflict: 409
	Precondition                 // If-Match / version precondition failed: 412
	TooLarge                     // body or bundle over a limit: 413
	UnsupportedMedia             // wrong content type: 415
	Unprocessable                // valid syntax, invalid content or business rule: 422
	Transient                    // a dependency is down; retry later: 503
	NotAllowed                   // the method is not allowed on the resource: 405
)

var kindNames = [...]string{"internal", "invalid", "unauthorized", "forbidden", "not_found", "conflict",
	"precondition_failed", "too_large", "unsupported_media_type", "unprocessable", "unavailable", "method_not_allowed"}

// String names the kind; the name is the `code` of JSON API errors.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "internal"
}

// ErrConditionalRace reports that a conditional create inside a
// multi-entry transaction found, at write time, a resource that another
// request committed after this one was planned: other entries may
// reference the id planned for it, so the whole transaction is rolled back
// and must be planned again (the caller retries; the second plan resolves
// the criteria to the committed resource). It comes wrapped in a Conflict
// error.
var ErrConditionalRace = errors.New("conditional create raced a concurrent commit")

// Issue is one detail of an error: what is wrong and where (a FHIRPath or a
// JSON path). Diagnostics may echo the caller's input, so it is only ever
// returned to the caller, never logged.
type Issue struct {
	Severity    string   `json:"severity"`
	Code        string   `json:"code"`
	Diagnostics string   `json:"diagnostics,omitempty"`
	Expression  []string `json:"expression,omitempty"`
	// Rule and RuleText are, on an issue for an edit (RefuseOnEdits), the
	// edit's rule source and words (Edit.Rule, Edit.RuleText). Not FHIR:
	// an OperationOutcome leaves them out.
	Rule     string `json:"rule,omitempty"`
	RuleText string `json:"ruleText,omitempty"`
}

// Error is codebridge's error: a kind, a message safe to log (no PHI), and
// optional issues for the caller.
type Error struct {
	Kind    Kind
	Message string
	Issues  []Issue
	Err     error
}

// Error returns the message, with the wrapped error's if any.
func (e *Error) Error() string {
	if e.Err != nil && e.Message != "" {
		return e.Message + ": " + e.Err.Error()
	}
	if e.Err != nil {
		return e.Err.Error()
	}
	return e.Message
}

// Unwrap gives errors.Is/As access to the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf makes an Error of kind k with a formatted message.
func Errorf(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

// WithIssues returns e carrying the given issues.
func (e *Error) WithIssues(issues ...Issue) *Error {
	e.Issues = append(e.Issues, issues...)
	return e
}

// KindOf reports the kind of err: the kind of the first *Error in its chain,
// or Internal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// IssuesOf returns the issues of the first *Error in err's chain.
func IssuesOf(err error) []Issue {
	var e *Error
	if errors.As(err, &e) {
		return e.Issues
	}
	return nil
}

// Wrap adds context to *errp, keeping its kind: use it as
// `defer workitem.Wrap(&err, "postgres.Submit(%s)", id)`. Arguments must be
// identifiers, never resource content.
func Wrap(errp *error, format string, args ...any) {
	if *errp != nil {
		*errp = fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), *errp)
	}
}
