package httpapi

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// memAudit is an in-memory AuditSink and AuditLog.
type memAudit struct {
	mu      sync.Mutex
	entries []AuditEntry
	queries []AuditQuery
}

func (m *memAudit) Record(e AuditEntry) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.entries = append(m.entries, e)
}

func (m *memAudit) QueryAudit(_ context.Context, q AuditQuery) ([]AuditEntry, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.queries = append(m.queries, q)
	return append([]AuditEntry(nil), m.entries...), "", nil
}

func (m *memAudit) take() []AuditEntry {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := m.entries
	m.entries = nil
	return out
}

const chartBody = `{"patientSummary":{"name":"Ana Rivera","birthDate":"1980-02-03"}}`

// auditServer mirrors the real routes' shapes with handlers that answer
// patient data, plus a workbench page that declares its read.
func auditServer(t testing.TB) (*Server, *memAudit) {
	t.Helper()
	s := New(Options{Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), Registry: prometheus.NewRegistry(),
		Auth: NewAuthenticator(testTokens, false)})
	chart := func(c echo.Context) error { return c.String(200, chartBody) }
	missing := func(echo.Context) error { return workitem.Errorf(workitem.NotFound, "no such resource") }
	read := Require(workitem.RoleEHR, workitem.RoleCoder, workitem.RoleAuditor)
	s.FHIR.GET("/metadata", chart)
	s.FHIR.GET("/:type/:id", func(c echo.Context) error {
		if c.Param("id") == "missing" {
			return missing(c)
		}
		return chart(c)
	}, read)
	s.FHIR.GET("/:type/:id/_history/:vid", chart, read)
	s.FHIR.GET("/Claim", chart, Require(workitem.RoleBiller))
	s.API.GET("/work-items", chart, Require(workitem.RoleCoder))
	s.API.GET("/work-items/:id", chart, Require(workitem.RoleCoder))
	s.API.POST("/work-items/next", chart, Require(workitem.RoleCoder))
	s.API.PUT("/work-items/:id/codes", chart, Require(workitem.RoleCoder))
	s.API.GET("/codes/search", chart)
	s.API.GET("/panics", func(echo.Context) error { panic("boom") })
	s.Echo.GET("/ui/chart/:id", func(c echo.Context) error {
		AuditRead(c, AuditEntry{WorkItem: c.Param("id"), Principal: "alice", Role: string(workitem.RoleCoder)})
		return c.String(200, chartBody)
	})
	s.Echo.GET("/ui/late/:id", func(c echo.Context) error {
		err := c.String(200, chartBody)
		AuditRead(c, AuditEntry{WorkItem: c.Param("id"), Principal: "alice", Role: string(workitem.RoleCoder)})
		return err
	})
	s.Echo.GET("/ui/app.js", func(c echo.Context) error { return c.String(200, "js") })
	a := &memAudit{}
	RegisterAudit(s, a, a)
	return s, a
}

func TestAuditRecordsEachReadOnce(t *testing.T) {
	s, a := auditServer(t)
	const ehr, coder, biller = "tok-ehr-123", "tok-coder-123", "tok-biller-123"
	entry := func(principal, role, method, route string, status int, edit func(*AuditEntry)) []AuditEntry {
		e := AuditEntry{Principal: principal, Role: role, Method: method, Route: route, Status: status, Params: []string{}}
		if edit != nil {
			edit(&e)
		}
		return []AuditEntry{e}
	}
	tests := []struct {
		name, method, path, token string
		want                      []AuditEntry
	}{
		{"resource read", "GET", "/fhir/Condition/c-1", ehr,
			entry("ehr1", "ehr", "GET", "/fhir/:type/:id", 200, func(e *AuditEntry) { e.Resource = "Condition/c-1" })},
		{"patient version read", "GET", "/fhir/Patient/p-1/_history/2", coder,
			entry("alice", "coder", "GET", "/fhir/:type/:id/_history/:vid", 200, func(e *AuditEntry) {
				e.Resource, e.Version, e.Patient = "Patient/p-1", "2", "Patient/p-1"
			})},
		{"claim search: names only, patient kept as reference", "GET", "/fhir/Claim?patient=Patient/p-9&_count=5&given=Jo&Ana+Rivera=1", biller,
			entry("bill", "biller", "GET", "/fhir/Claim", 200, func(e *AuditEntry) {
				e.Resource, e.Patient, e.Params = "Claim", "Patient/p-9", []string{"_count", "other", "patient"}
			})},
		{"not found is still a read attempt", "GET", "/fhir/Condition/missing", ehr,
			entry("ehr1", "ehr", "GET", "/fhir/:type/:id", 404, func(e *AuditEntry) { e.Resource = "Condition/missing" })},
		{"forbidden is recorded", "GET", "/api/v1/work-items/w-1", biller,
			entry("bill", "biller", "GET", "/api/v1/work-items/:id", 403, func(e *AuditEntry) { e.WorkItem = "w-1" })},
		{"worklist by encounter", "GET", "/api/v1/work-items?encounter=Encounter/e-1&status=ready", coder,
			entry("alice", "coder", "GET", "/api/v1/work-items", 200, func(e *AuditEntry) {
				e.Encounter, e.Params = "Encounter/e-1", []string{"encounter", "status"}
			})},
		{"next answers a chart", "POST", "/api/v1/work-items/next", coder,
			entry("alice", "coder", "POST", "/api/v1/work-items/next", 200, nil)},
		{"saving codes answers the chart", "PUT", "/api/v1/work-items/w-9/codes", coder,
			entry("alice", "coder", "PUT", "/api/v1/work-items/:id/codes", 200, func(e *AuditEntry) { e.WorkItem = "w-9" })},
		{"an id that is not a FHIR id is not kept", "GET", "/fhir/Condition/" + url.PathEscape("Ana Rivera"), ehr,
			entry("ehr1", "ehr", "GET", "/fhir/:type/:id", 200, func(e *AuditEntry) { e.Resource = "Condition" })},
		{"handler panic", "GET", "/api/v1/panics", coder,
			entry("alice", "coder", "GET", "/api/v1/panics", 500, nil)},
		{"workbench chart declared", "GET", "/ui/chart/w-2", "",
			entry("alice", "coder", "GET", "/ui/chart/:id", 200, func(e *AuditEntry) { e.WorkItem = "w-2" })},
		{"workbench chart declared after writing", "GET", "/ui/late/w-3", "",
			entry("alice", "coder", "GET", "/ui/late/:id", 200, func(e *AuditEntry) { e.WorkItem = "w-3" })},
		{"metadata is no patient data", "GET", "/fhir/metadata", ehr, nil},
		{"code lookups are no patient data", "GET", "/api/v1/codes/search?q=cough", coder, nil},
		{"whoami", "GET", "/api/v1/whoami", coder, nil},
		{"unauthenticated: access log only", "GET", "/fhir/Condition/c-1", "", nil},
		{"a write is not a read", "POST", "/fhir/Condition", ehr, nil},
		{"workbench asset", "GET", "/ui/app.js", "", nil},
	}
	for _, tt := range tests {
		rec := do(t, s, tt.method, tt.path, tt.token, `{"name":"Jo Doe"}`)
		got := a.take()
		if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(AuditEntry{}, "At", "RequestID"), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: entries mismatch (-want +got):\n%s", tt.name, diff)
			continue
		}
		for _, e := range got {
			if e.RequestID == "" || e.RequestID != rec.Header().Get(echo.HeaderXRequestID) || e.At.IsZero() {
				t.Errorf("%s: request id %q (response %q) at %v", tt.name, e.RequestID, rec.Header().Get(echo.HeaderXRequestID), e.At)
			}
			e.RequestID = "" // random: it may spell anything, "Jo" included
			b, _ := json.Marshal(e)
			for _, phi := range []string{"Ana", "Rivera", "1980", "Jo", "Doe"} {
				if strings.Contains(string(b), phi) {
					t.Errorf("%s: entry holds %q from a body or parameter: %s", tt.name, phi, b)
				}
			}
		}
	}
}

func TestAuditListingIsAdminOnly(t *testing.T) {
	s, a := auditServer(t)
	for _, tok := range []string{"tok-ehr-123", "tok-coder-123", "tok-auditor-123", "tok-biller-123"} {
		if rec := do(t, s, "GET", "/api/v1/admin/audit", tok, ""); rec.Code != http.StatusForbidden {
			t.Errorf("token %s: status %d, want 403", tok, rec.Code)
		}
	}
	a.take()
	do(t, s, "GET", "/fhir/Condition/c-1", "tok-ehr-123", "")
	rec := do(t, s, "GET", "/api/v1/admin/audit?principal=ehr1&patient=Patient/p-1&resource=Condition/c-1&from=2026-01-01&to=2026-02-01T10:00:00Z&limit=5&cursor=abc", "tok-admin-123", "")
	if rec.Code != 200 {
		t.Fatalf("admin listing: %d %s", rec.Code, rec.Body)
	}
	var body struct {
		Entries    []AuditEntry
		NextCursor *string
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.NextCursor == nil || len(body.Entries) != 1 {
		t.Fatalf("listing body = %s (%v)", rec.Body, err)
	}
	want := AuditQuery{Principal: "ehr1", Patient: "Patient/p-1", Resource: "Condition/c-1",
		From: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC), Limit: 5, Cursor: "abc"}
	if diff := cmp.Diff([]AuditQuery{want}, a.queries); diff != "" {
		t.Errorf("query mismatch (-want +got):\n%s", diff)
	}
}

func TestAuditListingRejectsBadParameters(t *testing.T) {
	s, _ := auditServer(t)
	for _, q := range []string{"patient=Encounter/e-1", "patient=Ana+Rivera", "resource=Condition", "from=yesterday",
		"to=2026-13-01", "limit=0", "limit=1001", "name=Ana"} {
		rec := do(t, s, "GET", "/api/v1/admin/audit?"+q, "tok-admin-123", "")
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", q, rec.Code)
		}
	}
}

// BenchmarkAuditedRead measures what auditing adds to a read on the
// request path: the same route with and without RegisterAudit (the sink
// only counts, as the real one only queues).
func BenchmarkAuditedRead(b *testing.B) {
	for _, audited := range []bool{false, true} {
		b.Run(map[bool]string{false: "plain", true: "audited"}[audited], func(b *testing.B) {
			s := New(Options{Logger: slog.New(slog.DiscardHandler), Registry: prometheus.NewRegistry(),
				Auth: NewAuthenticator(testTokens, false)})
			s.FHIR.GET("/:type/:id", func(c echo.Context) error { return c.String(200, chartBody) }, Require(workitem.RoleEHR))
			if audited {
				RegisterAudit(s, countSink{new(int)}, &memAudit{})
			}
			b.ReportAllocs()
			for b.Loop() {
				if rec := do(b, s, "GET", "/fhir/Condition/c-1?_format=json", "tok-ehr-123", ""); rec.Code != 200 {
					b.Fatal(rec.Code)
				}
			}
		})
	}
}

type countSink struct{ n *int }

func (s countSink) Record(AuditEntry) { *s.n++ }
