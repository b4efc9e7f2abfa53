// Package httpapi is codebridge's HTTP edge on echo v4: the FHIR REST API
// under /fhir, the coding API under /api/v1, health and metrics.
//
// Handlers just return errors. One table (errors.go) maps the domain's error
// kinds to an HTTP status and a FHIR issue code, and answers an
// OperationOutcome on /fhir or a JSON error object on /api; only 5xx answers
// are logged as errors (benbjohnson/wtf http.go, pkgsite derrors.ToStatus).
// Access logs are structured (slog JSON) and carry the route template, status,
// latency, request id and principal: never bodies, query strings or other
// PHI.
//
// Every FHIR write, a single resource (POST, PUT, DELETE) or a Bundle, goes
// through the ingest use case (mapping/ingest.Service); the handlers only
// read the request and write the response. Errors that are not yet domain
// errors (a FHIR parse error, echo's own) are converted at the edge, by
// ingest.DomainError for all but echo's.
//
// The handlers are tested in this package against the in-memory fake store
// of mapping/workitem/workitemtest, through the echo server; the real
// PostgreSQL store is exercised end to end in cmd/codebridge.
package httpapi
