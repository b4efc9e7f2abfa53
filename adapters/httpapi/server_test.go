package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/codebridge/codebridge/mapping/workitem"
)

var testTokens = []Token{
	{Name: "ehr1", Role: workitem.RoleEHR, Value: "tok-ehr-123"},
	{Name: "alice", Role: workitem.RoleCoder, Value: "tok-coder-123"},
	{Name: "audrey", Role: workitem.RoleAuditor, Value: "tok-auditor-123"},
	{Name: "bill", Role: workitem.RoleBiller, Value: "tok-biller-123"},
	{Name: "root", Role: workitem.RoleAdmin, Value: "tok-admin-123"},
}

func newTestServer(t testing.TB, ready ...Check) *Server {
	t.Helper()
	s := New(Options{
		Logger:    slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Registry:  prometheus.NewRegistry(),
		Auth:      NewAuthenticator(testTokens, false),
		BodyLimit: 1024,
		Ready:     ready,
	})
	s.API.GET("/coder-only", func(c echo.Context) error { return c.String(200, "ok") }, Require(workitem.RoleCoder))
	s.FHIR.GET("/Thing", func(c echo.Context) error { return c.String(200, "ok") }, Require(workitem.RoleEHR))
	s.API.GET("/answerers", func(c echo.Context) error { return c.String(200, "ok") }, RequireThat(workitem.MayAnswerQuery))
	s.API.POST("/echo", func(c echo.Context) error {
		b, err := io.ReadAll(c.Request().Body)
		if err != nil {
			return err
		}
		return c.String(200, string(b))
	})
	s.API.GET("/panic", func(c echo.Context) error { panic("boom") })
	s.API.GET("/gone", func(c echo.Context) error { return workitem.Errorf(workitem.NotFound, "no such item") })
	s.API.GET("/fail", func(c echo.Context) error { return errors.New("db exploded with secret detail") })
	refused := func(echo.Context) error {
		return workitem.RefuseOnEdits([]workitem.Edit{{Code: "GL_EXTERNAL_CAUSE_FIRST", Severity: "error", Message: "W19.XXXA first",
			Target: "diagnoses[0]", Rule: "Guidelines I.C.20", RuleText: "never first-listed"}}, true, 1)
	}
	s.API.GET("/refused", refused)
	s.FHIR.GET("/Refused", refused, Require(workitem.RoleEHR))
	return s
}

func do(t testing.TB, s *Server, method, path, token, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	s.Echo.ServeHTTP(rec, req)
	return rec
}

func TestAuthMatrix(t *testing.T) {
	s := newTestServer(t)
	tests := []struct {
		path, token string
		want        int
	}{
		{"/api/v1/coder-only", "", 401},
		{"/api/v1/coder-only", "nope-nope-nope", 401},
		{"/api/v1/coder-only", "tok-ehr-123", 403},
		{"/api/v1/coder-only", "tok-coder-123", 200},
		{"/api/v1/coder-only", "tok-auditor-123", 403},
		{"/api/v1/coder-only", "tok-biller-123", 403},
		{"/api/v1/coder-only", "tok-admin-123", 200},
		{"/fhir/Thing", "", 401},
		{"/fhir/Thing", "tok-coder-123", 403},
		{"/fhir/Thing", "tok-ehr-123", 200},
		{"/fhir/Thing", "tok-admin-123", 200},
		{"/api/v1/answerers", "tok-ehr-123", 200},
		{"/api/v1/answerers", "tok-coder-123", 200},
		{"/api/v1/answerers", "tok-admin-123", 200},
		{"/api/v1/answerers", "tok-auditor-123", 403},
		{"/api/v1/answerers", "tok-biller-123", 403},
		{"/api/v1/answerers", "", 401},
	}
	for _, tt := range tests {
		rec := do(t, s, "GET", tt.path, tt.token, "")
		if rec.Code != tt.want {
			t.Errorf("GET %s with %q = %d, want %d (%s)", tt.path, tt.token, rec.Code, tt.want, rec.Body)
		}
	}
}

func TestWhoami(t *testing.T) {
	s := newTestServer(t)
	rec := do(t, s, "GET", "/api/v1/whoami", "tok-auditor-123", "")
	var got map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || got["name"] != "audrey" || got["role"] != "auditor" {
		t.Fatalf("whoami = %s (%v)", rec.Body, err)
	}
}

func TestErrorBodies(t *testing.T) {
	s := newTestServer(t)
	// FHIR errors are OperationOutcomes.
	rec := do(t, s, "GET", "/fhir/Thing", "", "")
	var oo struct {
		ResourceType string
		Issue        []struct{ Severity, Code, Diagnostics string }
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &oo); err != nil || oo.ResourceType != "OperationOutcome" || len(oo.Issue) != 1 || oo.Issue[0].Code != "login" {
		t.Fatalf("401 on /fhir = %s", rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/fhir+json") {
		t.Errorf("content type %q", ct)
	}
	if rec.Header().Get("WWW-Authenticate") == "" {
		t.Error("401 without WWW-Authenticate")
	}
	// API errors are {"error":{...}}.
	rec = do(t, s, "GET", "/api/v1/gone", "tok-coder-123", "")
	var ae apiError
	if err := json.Unmarshal(rec.Body.Bytes(), &ae); err != nil || rec.Code != 404 || ae.Error.Code != "not_found" || ae.Error.Message != "no such item" {
		t.Fatalf("404 = %d %s", rec.Code, rec.Body)
	}
	// Unknown errors are 500 and do not leak their text.
	rec = do(t, s, "GET", "/api/v1/fail", "tok-coder-123", "")
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "secret") {
		t.Fatalf("500 = %d %s", rec.Code, rec.Body)
	}
	// An edit refusal names each edit's rule in the API's details, and
	// never in an OperationOutcome (no such FHIR element).
	rec = do(t, s, "GET", "/api/v1/refused", "tok-coder-123", "")
	if rec.Code != 422 || !strings.Contains(rec.Body.String(), `"rule":"Guidelines I.C.20","ruleText":"never first-listed"`) {
		t.Fatalf("refusal = %d %s, want the rule in its details", rec.Code, rec.Body)
	}
	rec = do(t, s, "GET", "/fhir/Refused", "tok-ehr-123", "")
	if rec.Code != 422 || !strings.Contains(rec.Body.String(), "GL_EXTERNAL_CAUSE_FIRST") || strings.Contains(rec.Body.String(), "rule") {
		t.Fatalf("refusal under /fhir = %d %s, want an OperationOutcome without rule", rec.Code, rec.Body)
	}
	// Unknown route under /fhir: 404 OperationOutcome (after auth).
	rec = do(t, s, "GET", "/fhir/Nope/1", "tok-ehr-123", "")
	if rec.Code != 404 || !strings.Contains(rec.Body.String(), "OperationOutcome") {
		t.Fatalf("unknown fhir route = %d %s", rec.Code, rec.Body)
	}
}

func TestPanicRecovers(t *testing.T) {
	s := newTestServer(t)
	rec := do(t, s, "GET", "/api/v1/panic", "tok-coder-123", "")
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), `"internal"`) {
		t.Fatalf("panic = %d %s", rec.Code, rec.Body)
	}
	// The server keeps serving.
	if rec := do(t, s, "GET", "/healthz", "", ""); rec.Code != 200 {
		t.Fatalf("healthz after panic = %d", rec.Code)
	}
}

func TestBodyLimit(t *testing.T) {
	s := newTestServer(t)
	if rec := do(t, s, "POST", "/api/v1/echo", "tok-coder-123", strings.Repeat("x", 1000)); rec.Code != 200 {
		t.Fatalf("small body = %d", rec.Code)
	}
	rec := do(t, s, "POST", "/api/v1/echo", "tok-coder-123", strings.Repeat("x", 5000))
	if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), "too_large") {
		t.Fatalf("big body = %d %s", rec.Code, rec.Body)
	}
}

func TestReadyz(t *testing.T) {
	var down atomic.Bool
	s := newTestServer(t, Check{Name: "database", Fn: func(context.Context) error {
		if down.Load() {
			return errors.New("down")
		}
		return nil
	}})
	if rec := do(t, s, "GET", "/readyz", "", ""); rec.Code != 200 {
		t.Fatalf("readyz = %d", rec.Code)
	}
	down.Store(true)
	rec := do(t, s, "GET", "/readyz", "", "")
	if rec.Code != 503 || !strings.Contains(rec.Body.String(), `"database":"unavailable"`) {
		t.Fatalf("readyz down = %d %s", rec.Code, rec.Body)
	}
}

func TestMetricsExposeRouteHistogram(t *testing.T) {
	s := newTestServer(t)
	do(t, s, "GET", "/api/v1/whoami", "tok-coder-123", "")
	rec := do(t, s, "GET", "/metrics", "", "")
	if !strings.Contains(rec.Body.String(), `codebridge_http_request_duration_seconds_count{code="200",method="GET",route="/api/v1/whoami"} 1`) {
		t.Fatalf("metrics missing route histogram:\n%s", rec.Body)
	}
}

func TestInsecureNoAuth(t *testing.T) {
	a := NewAuthenticator(nil, true)
	p, err := a.Authenticate("")
	if err != nil || p.Role != workitem.RoleAdmin {
		t.Fatalf("insecure = %+v %v", p, err)
	}
	// Insecure mode is ignored when tokens exist.
	if _, err := NewAuthenticator(testTokens, true).Authenticate(""); err == nil {
		t.Fatal("tokens configured: missing token must fail even with insecure flag")
	}
}

func TestShutdownBeforeServeStopsIt(t *testing.T) {
	s := newTestServer(t)
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(l) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve after Shutdown = %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Serve kept serving after Shutdown")
	}
}

func TestBearerSchemeCaseInsensitive(t *testing.T) {
	a := NewAuthenticator(testTokens, false)
	for _, h := range []string{"Bearer tok-coder-123", "bearer tok-coder-123", "BEARER tok-coder-123"} {
		if p, err := a.Authenticate(h); err != nil || p.Name != "alice" {
			t.Errorf("Authenticate(%q) = %v, %v", h, p, err)
		}
	}
	for _, h := range []string{"Basic tok-coder-123", "Bearertok-coder-123", "tok-coder-123"} {
		if _, err := a.Authenticate(h); err == nil {
			t.Errorf("Authenticate(%q) accepted", h)
		}
	}
}
