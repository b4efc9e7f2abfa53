package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// AuditEntry is one read of patient data as the audit log keeps it: who,
// what, when and with which outcome. It never holds request or response
// bodies, nor query parameter values: Params lists parameter names only.
type AuditEntry struct {
	ID        int64     `json:"id"`
	At        time.Time `json:"at"` // when the request started
	Principal string    `json:"principal"`
	Role      string    `json:"role"`
	Method    string    `json:"method"`
	Route     string    `json:"route"`              // the route template, e.g. /fhir/:type/:id
	Resource  string    `json:"resource,omitempty"` // Type/id read, or Type for a search
	Version   string    `json:"version,omitempty"`  // the version of a version read
	WorkItem  string    `json:"workItem,omitempty"`
	Encounter string    `json:"encounter,omitempty"` // Encounter/id when known
	Patient   string    `json:"patient,omitempty"`   // Patient/id when known
	Params    []string  `json:"params"`              // query parameter names, sorted
	Status    int       `json:"status"`
	RequestID string    `json:"requestId"`
}

// AuditSink takes audit entries. Record is called on the request's path,
// before the response is sent, so it must not wait on a database; it may
// block briefly when its buffer is full.
type AuditSink interface {
	Record(AuditEntry)
}

// AuditQuery selects entries of the audit log, newest first.
type AuditQuery struct {
	Principal string
	Patient   string // Patient/id
	Resource  string // Type/id
	From, To  time.Time
	Limit     int
	Cursor    string
}

// AuditLog answers the admin's audit queries.
type AuditLog interface {
	// QueryAudit answers a page of entries, newest first, and the cursor of
	// the next page ("" on the last). It includes every entry recorded
	// before the call. Errors: Invalid (cursor).
	QueryAudit(ctx context.Context, q AuditQuery) ([]AuditEntry, string, error)
}

const auditKey = "codebridge.audit"

// auditState follows one request: what a handler declared through AuditRead
// and whether the entry was recorded.
type auditState struct {
	sink     AuditSink
	start    time.Time
	note     *AuditEntry
	recorded bool
}

// RegisterAudit records every read of patient data into sink and serves
// the audit log to admins on GET /api/v1/admin/audit. Reads recorded
// without a handler's help are: GET on /fhir (but /fhir/metadata) and on
// /api/v1 (but whoami and the code-set lookups), and POST
// /api/v1/work-items/next, which answers a chart. Any other handler that
// shows patient data (the workbench under /ui/) calls AuditRead.
//
// The entry is recorded just before the response header is written, once
// the status is known, so a caller never sees a response whose read is not
// yet on its way to the log. Unauthenticated requests (401) are left to the
// access log.
func RegisterAudit(s *Server, sink AuditSink, log AuditLog) {
	s.Echo.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			st := &auditState{sink: sink, start: time.Now()}
			c.Set(auditKey, st)
			c.Response().Before(func() { st.finish(c, c.Response().Status) })
			err := next(c)
			// The hook has not run when nothing was written; and a handler
			// may call AuditRead after it started its response.
			if c.Response().Committed || err == nil {
				st.finish(c, statusOr200(c))
			}
			return err
		}
	})
	h := auditAPI{log: log}
	s.API.GET("/admin/audit", h.list, Require(workitem.RoleAdmin))
}

// AuditRead declares that the request of c shows patient data, for routes
// RegisterAudit does not audit by itself (the workbench's chart pages). The
// entry's Resource, Version, WorkItem, Encounter and Patient (and, for
// callers with their own sessions, Principal and Role) describe the read;
// the time, route, status, request id and parameter names are filled in.
// Call it before writing the response; a later call is recorded when the
// handler returns. Without RegisterAudit on the same server it does
// nothing. Patient and Encounter, when left empty, are resolved by the
// audit log from the work item or resource.
func AuditRead(c echo.Context, e AuditEntry) {
	st, ok := c.Get(auditKey).(*auditState)
	if !ok {
		return
	}
	st.note = &e
}

func statusOr200(c echo.Context) int {
	if s := c.Response().Status; s != 0 {
		return s
	}
	return http.StatusOK
}

// finish records the request's entry once, if it is a read to audit.
func (st *auditState) finish(c echo.Context, status int) {
	if st.recorded {
		return
	}
	p := PrincipalOf(c)
	if st.note == nil && (p.Name == "" || !auditedRoute(c.Request().Method, c.Path())) {
		return
	}
	st.recorded = true
	e := describe(c)
	if n := st.note; n != nil {
		mergeNote(&e, *n)
	}
	if e.Principal == "" {
		e.Principal, e.Role = p.Name, string(p.Role)
	}
	e.At, e.Method, e.Route, e.Status, e.RequestID = st.start, c.Request().Method, c.Path(), status, requestID(c)
	st.sink.Record(e)
}

func mergeNote(e *AuditEntry, n AuditEntry) {
	for _, f := range []struct{ dst, src *string }{
		{&e.Resource, &n.Resource}, {&e.Version, &n.Version}, {&e.WorkItem, &n.WorkItem},
		{&e.Encounter, &n.Encounter}, {&e.Patient, &n.Patient},
	} {
		if *f.src != "" {
			*f.dst = *f.src
		}
	}
	if n.Principal != "" {
		e.Principal, e.Role = n.Principal, n.Role
	}
}

// unaudited are the authenticated GET routes that show no patient data.
// The audit listing itself is audited: it names patients.
var unaudited = map[string]bool{
	"/fhir/metadata":         true,
	"/api/v1/whoami":         true,
	"/api/v1/codes/search":   true,
	"/api/v1/codes/releases": true,
}

// auditedRoute reports whether a route is a read of patient data by
// default: audit unless known not to show any, so a new route is audited.
// Writes on a work item (codes, submit, queries, review) are audited too,
// since each answers with the item's chart.
func auditedRoute(method, route string) bool {
	if method == http.MethodPost || method == http.MethodPut {
		// Coding actions answer with the chart (patient data) too.
		return route == "/api/v1/work-items/next" || strings.HasPrefix(route, "/api/v1/work-items/:id")
	}
	if method != http.MethodGet || unaudited[route] || strings.HasSuffix(route, "/*") {
		return false
	}
	return strings.HasPrefix(route, "/fhir/") || strings.HasPrefix(route, "/api/v1/")
}

// fhirID is the FHIR id syntax; work-item, Claim and Provenance ids fit it
// too. A path value that does not is not recorded (it may be anything a
// client typed).
var fhirID = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)

// fhirType is a FHIR resource type name.
var fhirType = regexp.MustCompile(`^[A-Z][A-Za-z]{1,63}$`)

// describe derives what was read from the route template, its path values
// and the reference-valued query parameters.
func describe(c echo.Context) AuditEntry {
	var e AuditEntry
	route := c.Path()
	id := c.Param("id")
	if !fhirID.MatchString(id) {
		id = ""
	}
	switch {
	case strings.HasPrefix(route, "/fhir/"):
		typ, _, _ := strings.Cut(strings.TrimPrefix(route, "/fhir/"), "/")
		if typ == ":type" {
			typ = c.Param("type")
		}
		if fhirType.MatchString(typ) {
			e.Resource = typ
			if id != "" {
				e.Resource = typ + "/" + id
			}
		}
		if typ == "Patient" && id != "" {
			e.Patient = e.Resource
		}
		if v := c.Param("vid"); fhirID.MatchString(v) {
			e.Version = v
		}
	case strings.HasPrefix(route, "/api/v1/work-items/:id"):
		e.WorkItem = id
	}
	q := c.QueryParams()
	if e.Patient == "" {
		e.Patient = reference(q.Get("patient"), "Patient")
	}
	e.Encounter = reference(q.Get("encounter"), "Encounter")
	if e.Resource == "" {
		e.Resource = typedReference(q.Get("resource"))
	}
	e.Params = paramNames(q)
	return e
}

// reference normalises a reference-valued parameter (Type/id, or a bare id
// as FHIR search allows) to Type/id; anything else is "".
func reference(v, typ string) string {
	id := strings.TrimPrefix(v, typ+"/")
	if !fhirID.MatchString(id) {
		return ""
	}
	return typ + "/" + id
}

// typedReference checks a Type/id reference of any type.
func typedReference(v string) string {
	typ, id, ok := strings.Cut(v, "/")
	if !ok || !fhirType.MatchString(typ) || !fhirID.MatchString(id) {
		return ""
	}
	return v
}

// knownParams are the query parameter names recorded as sent; any other
// name is recorded as "other" (a name is client-typed text too).
var knownParams = map[string]bool{
	"encounter": true, "patient": true, "status": true, "_lastUpdated": true, "_count": true,
	"_cursor": true, "_format": true, "_id": true, "_summary": true, "_elements": true,
	"assignee": true, "class": true, "cursor": true, "sort": true, "limit": true, "from": true,
	"to": true, "principal": true, "resource": true, "after": true, "date": true, "q": true, "system": true,
}

func paramNames(q url.Values) []string {
	names := make([]string, 0, len(q))
	seen := map[string]bool{}
	for k := range q {
		if !knownParams[k] {
			k = "other"
		}
		if !seen[k] {
			seen[k] = true
			names = append(names, k)
		}
	}
	sort.Strings(names)
	return names
}

type auditAPI struct{ log AuditLog }

// list answers GET /api/v1/admin/audit?principal=&patient=Patient/{id}&resource=Type/{id}&from=&to=&limit=&cursor=
// as {"entries":[...],"nextCursor":""}, newest first.
func (h auditAPI) list(c echo.Context) error {
	q, err := parseAuditQuery(c.QueryParams())
	if err != nil {
		return err
	}
	entries, next, err := h.log.QueryAudit(c.Request().Context(), q)
	if err != nil {
		return err
	}
	for i := range entries {
		entries[i].Params = nonNil(entries[i].Params)
	}
	return c.JSON(http.StatusOK, map[string]any{"entries": nonNil(entries), "nextCursor": next})
}

// parseAuditQuery reads the listing's parameters; an unknown or malformed
// one is a 400 naming it. from is inclusive, to exclusive; both take an
// RFC 3339 instant or a date (midnight UTC). limit is 1..1000, default 100.
func parseAuditQuery(v url.Values) (AuditQuery, error) {
	q := AuditQuery{Principal: v.Get("principal"), Cursor: v.Get("cursor"), Limit: 100}
	for name := range v {
		switch name {
		case "principal", "patient", "resource", "from", "to", "limit", "cursor":
		default:
			return q, workitem.Errorf(workitem.Invalid, "parameter %q is not supported (principal, patient, resource, from, to, limit, cursor)", name)
		}
	}
	if p := v.Get("patient"); p != "" {
		if q.Patient = typedReference(p); !strings.HasPrefix(q.Patient, "Patient/") {
			return q, workitem.Errorf(workitem.Invalid, "patient must be Patient/{id}")
		}
	}
	if r := v.Get("resource"); r != "" {
		if q.Resource = typedReference(r); q.Resource == "" {
			return q, workitem.Errorf(workitem.Invalid, "resource must be Type/{id}")
		}
	}
	for _, t := range []struct {
		name string
		dst  *time.Time
	}{{"from", &q.From}, {"to", &q.To}} {
		if s := v.Get(t.name); s != "" {
			var err error
			if *t.dst, err = parseInstant(s); err != nil {
				return q, workitem.Errorf(workitem.Invalid, "%s: want an RFC 3339 instant or a date YYYY-MM-DD", t.name)
			}
		}
	}
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			return q, workitem.Errorf(workitem.Invalid, "limit must be 1..1000")
		}
		q.Limit = n
	}
	return q, nil
}

func parseInstant(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Parse(time.DateOnly, s)
}
