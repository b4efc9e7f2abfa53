package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping/ingest"
	"github.com/codebridge/codebridge/mapping/workitem"
	"github.com/codebridge/codebridge/mapping/workitem/workitemtest"
)

// The fake store is what every handler takes.
var (
	_ ResourceStore    = (*workitemtest.Store)(nil)
	_ WorkItems        = (*workitemtest.Store)(nil)
	_ Coding           = (*workitemtest.Store)(nil)
	_ Claims           = (*workitemtest.Store)(nil)
	_ workitem.Reports = (*workitemtest.Store)(nil)
	_ ResourceReader   = (*workitemtest.Store)(nil)
)

var testParser = func() *fhir.Parser {
	p, err := fhir.NewParser()
	if err != nil {
		panic(err)
	}
	return p
}()

// Tokens of the test principals, by role.
const (
	ehrTok     = "tok-ehr-123"
	coderTok   = "tok-coder-123"
	auditorTok = "tok-auditor-123"
	billerTok  = "tok-biller-123"
	adminTok   = "tok-admin-123"
)

// codingOptions are the coding actions' options in these tests.
func codingOptions() CodingOptions {
	return CodingOptions{Lease: time.Minute, QASampleRate: 0.25}
}

// apiServer registers the FHIR, Claim, work-item, coding and report routes
// on one fake store, as cmd does on the real one.
func apiServer(t testing.TB) (*Server, *workitemtest.Store) {
	t.Helper()
	st := workitemtest.New()
	s := New(Options{
		Logger:   slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Registry: prometheus.NewRegistry(),
		Auth:     NewAuthenticator(testTokens, false),
	})
	RegisterFHIR(s, st, &ingest.Service{Parser: testParser, Store: st, MaxBundleEntries: 3})
	RegisterWorkItems(s, st, WorkItemOptions{MaxLeases: 2, Lease: time.Minute})
	RegisterCoding(s, st, st, codingOptions())
	RegisterClaims(s, st)
	RegisterReports(s, st, st)
	return s, st
}

// request is one HTTP request of a table test.
type request struct {
	method, path, token, body string
	header                    map[string]string // Content-Type defaults to FHIR JSON under /fhir, JSON elsewhere
}

func send(t testing.TB, s *Server, r request) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(r.method, r.path, strings.NewReader(r.body))
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	if r.body != "" {
		ct := "application/json"
		if strings.HasPrefix(r.path, "/fhir") {
			ct = "application/fhir+json"
		}
		req.Header.Set("Content-Type", ct)
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	s.Echo.ServeHTTP(rec, req)
	return rec
}

// outcomeOf decodes an OperationOutcome body.
func outcomeOf(t testing.TB, rec *httptest.ResponseRecorder) operationOutcome {
	t.Helper()
	var oo operationOutcome
	if err := json.Unmarshal(rec.Body.Bytes(), &oo); err != nil || oo.ResourceType != "OperationOutcome" {
		t.Fatalf("body is no OperationOutcome (%v): %s", err, rec.Body)
	}
	return oo
}

// issueCodes lists the issue codes of an OperationOutcome body.
func issueCodes(t testing.TB, rec *httptest.ResponseRecorder) []string {
	t.Helper()
	var out []string
	for _, iss := range outcomeOf(t, rec).Issue {
		out = append(out, iss.Code)
	}
	return out
}

// apiErrorOf decodes the JSON error body of /api routes.
func apiErrorOf(t testing.TB, rec *httptest.ResponseRecorder) apiErrorBody {
	t.Helper()
	var e apiError
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error.Code == "" {
		t.Fatalf("body is no API error (%v): %s", err, rec.Body)
	}
	return e.Error
}

// lastModified is the Last-Modified of everything the fake stores.
var lastModified = workitemtest.Now.Format(http.TimeFormat)

// item is a ready work item on Encounter/e1.
func item(id string, version int) workitem.Item {
	return workitem.Item{ID: id, Status: workitem.Ready, Encounter: "Encounter/e1", Class: "AMB", Version: version}
}

// leased is item leased to the coder alice, with one diagnosis assigned:
// what the domain's rules (workitem.MayCode, RefuseOnEdits) let her code
// and submit.
func leased(id string, version int) workitem.Item {
	it := item(id, version)
	it.Status, it.Assignee = workitem.InProgress, "alice"
	it.Codes = &workitem.Assignment{Diagnoses: []workitem.AssignedDiagnosis{{Code: "J20.9"}}}
	return it
}

// errSecret is an unclassified failure whose text must not reach a client.
var errSecret = errors.New("db exploded with secret detail")
