package fhir

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
)

// Issue severities (OperationOutcome.issue.severity).
const (
	SeverityFatal       = "fatal"
	SeverityError       = "error"
	SeverityWarning     = "warning"
	SeverityInformation = "information"
)

// Issue type codes (OperationOutcome.issue.code, value set issue-type).
const (
	IssueInvalid       = "invalid"
	IssueStructure     = "structure"
	IssueRequired      = "required"
	IssueValue         = "value"
	IssueInvariant     = "invariant"
	IssueSecurity      = "security"
	IssueLogin         = "login"
	IssueForbidden     = "forbidden"
	IssueProcessing    = "processing"
	IssueNotSupported  = "not-supported"
	IssueDuplicate     = "duplicate"
	IssueNotFound      = "not-found"
	IssueConflict      = "conflict"
	IssueTooLong       = "too-long"
	IssueCodeInvalid   = "code-invalid"
	IssueBusinessRule  = "business-rule"
	IssueException     = "exception"
	IssueTimeout       = "timeout"
	IssueTransient     = "transient"
	IssueInformational = "informational"
)

// Issue is one OperationOutcome issue.
type Issue struct {
	// Severity is fatal, error, warning or information.
	Severity string
	// Code is a FHIR issue-type code such as "structure" or "required".
	Code string
	// Diagnostics is free text for the client; it may echo input (and so
	// PHI) and must never be logged.
	Diagnostics string
	// Expression holds FHIRPaths of the elements at fault, e.g.
	// "Condition.onsetDateTime" or "Bundle.entry[3].resource.status".
	Expression []string
}

// NewIssue returns an Issue with the given severity, code, diagnostics and
// FHIRPath expressions.
func NewIssue(severity, code, diagnostics string, expression ...string) Issue {
	return Issue{Severity: severity, Code: code, Diagnostics: diagnostics, Expression: expression}
}

// Error is a FHIR parse or validation failure. Its Error string carries only
// element paths and generic reasons (no PHI); Issues carry the details for
// the caller's OperationOutcome.
type Error struct {
	// Status is the suggested HTTP status: 400 for unparseable input, 422 for
	// a well-formed but invalid resource.
	Status int
	// Issues lists every problem found.
	Issues []Issue
	// reasons are PHI-free "path: reason" strings, one per issue.
	reasons []string
}

// Error returns a PHI-free summary naming element paths and generic reasons.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "fhir: %d issue(s)", len(e.Issues))
	for i, iss := range e.Issues {
		if i == 3 {
			b.WriteString("; ...")
			break
		}
		if i < len(e.reasons) {
			b.WriteString("; " + e.reasons[i])
			continue
		}
		b.WriteString("; " + iss.Code)
		if len(iss.Expression) > 0 {
			b.WriteString(" at " + strings.Join(iss.Expression, ","))
		}
	}
	return b.String()
}

// AsError returns the *Error in err's chain, if any.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// libIssue is one google/fhir UnmarshalError read through reflection, as that
// type lives in an internal package.
type libIssue struct {
	Path, Details, Diagnostics, Type string
}

// reporter collects google/fhir validation errors (required fields,
// reference types, primitive formats).
type reporter struct {
	issues []libIssue
}

// ReportValidationError implements errorreporter.ErrorReporter.
func (r *reporter) ReportValidationError(path string, err error) error {
	for _, li := range readLibErrors(err) {
		if li.Path == "" {
			li.Path = path
		}
		r.issues = append(r.issues, li)
	}
	return nil
}

// ReportValidationWarning implements errorreporter.ErrorReporter; warnings
// are ignored.
func (r *reporter) ReportValidationWarning(string, error) error { return nil }

// readLibErrors flattens an UnmarshalError or UnmarshalErrorList into
// libIssues; any other error becomes one issue with a generic reason.
func readLibErrors(err error) []libIssue {
	v := reflect.ValueOf(err)
	switch {
	case v.Kind() == reflect.Pointer && !v.IsNil() && v.Elem().Kind() == reflect.Struct:
		if li, ok := readLibStruct(v.Elem()); ok {
			return []libIssue{li}
		}
	case v.Kind() == reflect.Slice:
		var out []libIssue
		for i := 0; i < v.Len(); i++ {
			e := v.Index(i)
			if e.Kind() == reflect.Pointer && !e.IsNil() {
				if li, ok := readLibStruct(e.Elem()); ok {
					out = append(out, li)
				}
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	return []libIssue{{Details: "processing error", Diagnostics: err.Error()}}
}

// readLibStruct reads the string fields of a jsonpbhelper.UnmarshalError.
func readLibStruct(s reflect.Value) (libIssue, bool) {
	if s.Kind() != reflect.Struct {
		return libIssue{}, false
	}
	get := func(name string) string {
		f := s.FieldByName(name)
		if !f.IsValid() || f.Kind() != reflect.String {
			return ""
		}
		return f.String()
	}
	li := libIssue{Path: get("Path"), Details: get("Details"), Diagnostics: get("Diagnostics"), Type: get("Type")}
	return li, li.Details != ""
}

// fromLibraryError converts a google/fhir unmarshal error (plus any
// validation issues already reported) into an *Error.
func fromLibraryError(err error, reported []libIssue) error {
	return newError(append(readLibErrors(err), reported...))
}

// newError builds an *Error from library issues.
func newError(lis []libIssue) *Error {
	e := &Error{Status: http.StatusUnprocessableEntity}
	for _, li := range lis {
		iss, reason, status := convertIssue(li)
		e.Issues = append(e.Issues, iss)
		e.reasons = append(e.reasons, reason)
		if status == http.StatusBadRequest {
			e.Status = status
		}
	}
	return e
}

// convertIssue maps one library issue to an Issue, a PHI-free reason and a
// status. Details from google/fhir are PHI-free by design; Diagnostics may
// echo input and so go only to Issue.Diagnostics.
func convertIssue(li libIssue) (Issue, string, int) {
	path := normalizePath(li.Path)
	code, status, expr := IssueInvalid, http.StatusUnprocessableEntity, path
	safePath := path
	d := li.Details
	switch {
	case d == "invalid JSON" && li.Path == "":
		code, status, expr = IssueStructure, http.StatusBadRequest, ""
	case d == "invalid JSON":
		code = IssueStructure
	case strings.HasPrefix(d, "missing required field "):
		code = IssueRequired
		expr = joinPath(path, unquote(strings.TrimPrefix(d, "missing required field ")))
		if li.Path == "" {
			status = http.StatusBadRequest
		}
	case d == "invalid resource type":
		code, expr = IssueStructure, joinPath(path, "resourceType")
		if li.Path == "" {
			status = http.StatusBadRequest
		}
	case d == "unknown resource type":
		code, expr = IssueNotSupported, joinPath(parentPath(path), "resourceType")
		safePath = expr
	case d == "unknown field":
		code, expr = IssueStructure, joinPath(path, unquote(li.Diagnostics))
	case d == "code type mismatch":
		code = IssueCodeInvalid
	case strings.HasPrefix(d, "expected "), strings.HasPrefix(d, "invalid "),
		strings.HasPrefix(d, "non-negative"):
		code = IssueValue
	case strings.Contains(d, "nesting depth"):
		code = IssueTooLong
	case d == "processing error":
		code, status = IssueProcessing, http.StatusBadRequest
	}
	if li.Type == "ReferenceTypeError" {
		code = IssueInvalid
	}
	diag := d
	if li.Diagnostics != "" {
		diag += ": " + strings.ToValidUTF8(li.Diagnostics, "")
	}
	iss := Issue{Severity: SeverityError, Code: code, Diagnostics: diag}
	if expr != "" {
		iss.Expression = []string{expr}
	}
	reason := d
	if safePath != "" {
		reason = safePath + ": " + d
	}
	return iss, reason, status
}

// unquote strips Go quoting from s when present.
func unquote(s string) string {
	if u, err := strconv.Unquote(s); err == nil {
		return u
	}
	return s
}

// joinPath appends an element name to a FHIRPath.
func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	if name == "" {
		return path
	}
	return path + "." + name
}

// parentPath drops the last element of a FHIRPath.
func parentPath(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[:i]
	}
	return ""
}
