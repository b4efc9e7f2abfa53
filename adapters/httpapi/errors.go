package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/codebridge/codebridge/mapping/ingest"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// kindStatus is the one table from error kind to HTTP status and FHIR
// OperationOutcome issue.code.
var kindStatus = map[workitem.Kind]struct {
	status    int
	issueCode string
}{
	workitem.Internal:         {http.StatusInternalServerError, "exception"},
	workitem.Invalid:          {http.StatusBadRequest, "structure"},
	workitem.Unauthorized:     {http.StatusUnauthorized, "login"},
	workitem.Forbidden:        {http.StatusForbidden, "forbidden"},
	workitem.NotFound:         {http.StatusNotFound, "not-found"},
	workitem.Conflict:         {http.StatusConflict, "conflict"},
	workitem.Precondition:     {http.StatusPreconditionFailed, "conflict"},
	workitem.TooLarge:         {http.StatusRequestEntityTooLarge, "too-costly"},
	workitem.UnsupportedMedia: {http.StatusUnsupportedMediaType, "not-supported"},
	workitem.Unprocessable:    {http.StatusUnprocessableEntity, "processing"},
	workitem.Transient:        {http.StatusServiceUnavailable, "transient"},
	workitem.NotAllowed:       {http.StatusMethodNotAllowed, "not-supported"},
}

// statusKind maps statuses echo itself produces back to kinds.
var statusKind = map[int]workitem.Kind{
	http.StatusBadRequest:            workitem.Invalid,
	http.StatusUnauthorized:          workitem.Unauthorized,
	http.StatusForbidden:             workitem.Forbidden,
	http.StatusNotFound:              workitem.NotFound,
	http.StatusMethodNotAllowed:      workitem.NotAllowed,
	http.StatusRequestEntityTooLarge: workitem.TooLarge,
	http.StatusUnsupportedMediaType:  workitem.UnsupportedMedia,
	http.StatusServiceUnavailable:    workitem.Transient,
}

// StatusOf returns the HTTP status for err.
func StatusOf(err error) int { return kindStatus[toDomain(err).Kind].status }

// toDomain turns any error into a *workitem.Error: echo's own by their
// status, any other through ingest.DomainError (the one conversion).
func toDomain(err error) *workitem.Error {
	if err == nil {
		return workitem.Errorf(workitem.Internal, "no error to report")
	}
	var we *workitem.Error
	if errors.As(err, &we) {
		return we
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		k, ok := statusKind[he.Code]
		if !ok {
			k = workitem.Internal
		}
		msg := http.StatusText(he.Code)
		if s, ok := he.Message.(string); ok && he.Code < 500 {
			msg = s
		}
		if he.Code == http.StatusMethodNotAllowed {
			return &workitem.Error{Kind: k, Message: "method not allowed on this path"}
		}
		return &workitem.Error{Kind: k, Message: msg}
	}
	errors.As(ingest.DomainError(err), &we)
	return we
}

// apiError is the JSON error body of /api routes.
type apiError struct {
	Error apiErrorBody `json:"error"`
}

type apiErrorBody struct {
	Code    string           `json:"code"`
	Message string           `json:"message"`
	Details []workitem.Issue `json:"details,omitempty"`
}

// operationOutcome is a minimal R4 OperationOutcome.
type operationOutcome struct {
	ResourceType string           `json:"resourceType"`
	Issue        []workitem.Issue `json:"issue"`
}

// errorHandler answers every error: OperationOutcome under /fhir, the JSON
// error object elsewhere. It logs 5xx only.
func (s *Server) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	de := toDomain(err)
	entry := kindStatus[de.Kind]
	msg := de.Message
	switch {
	case entry.status >= 500 && de.Kind == workitem.Transient:
		// overload or a dependency down: expected under load, retried by clients
		s.log.WarnContext(c.Request().Context(), "request refused for now", "request_id", requestID(c), "route", c.Path(), "error", err.Error())
	case entry.status >= 500:
		s.log.ErrorContext(c.Request().Context(), "request failed", "request_id", requestID(c), "route", c.Path(), "error", err.Error())
	}
	if de.Kind == workitem.Internal {
		msg = "internal error (request id " + requestID(c) + ")"
	}
	var body []byte
	if isFHIRPath(c.Request().URL.Path) {
		issues := slices.Clone(de.Issues)
		if len(issues) == 0 {
			issues = []workitem.Issue{{Severity: "error", Code: entry.issueCode, Diagnostics: msg}}
		}
		for i := range issues { // rule and ruleText are no OperationOutcome elements
			issues[i].Rule, issues[i].RuleText = "", ""
		}
		body, _ = json.Marshal(operationOutcome{ResourceType: "OperationOutcome", Issue: issues})
		c.Response().Header().Set(echo.HeaderContentType, "application/fhir+json; charset=utf-8")
	} else {
		body, _ = json.Marshal(apiError{Error: apiErrorBody{Code: de.Kind.String(), Message: msg, Details: de.Issues}})
		c.Response().Header().Set(echo.HeaderContentType, echo.MIMEApplicationJSONCharsetUTF8)
	}
	if de.Kind == workitem.Unauthorized {
		c.Response().Header().Set("WWW-Authenticate", `Bearer realm="codebridge"`)
	}
	c.Response().WriteHeader(entry.status)
	if c.Request().Method != http.MethodHead {
		_, _ = c.Response().Write(body)
	}
}

func isFHIRPath(p string) bool { return p == "/fhir" || strings.HasPrefix(p, "/fhir/") }
