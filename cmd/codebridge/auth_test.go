package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
	"github.com/codebridge/codebridge/config"
	"github.com/codebridge/codebridge/mapping/workitem"
)

const (
	e2eIssuer   = "https://idp.e2e.test"
	e2eAudience = "codebridge-e2e"
	adminTok    = "e2e-admin-token"
)

// e2eIssuerKeys is an identity provider: an RSA key published on a JWKS
// endpoint, and a way to mint tokens with it.
type e2eIssuerKeys struct {
	key  *rsa.PrivateKey
	jwks *httptest.Server
}

func newE2EIssuer(t *testing.T) *e2eIssuerKeys {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	set, _ := json.Marshal(map[string]any{"keys": []map[string]string{{"kty": "RSA", "kid": "e2e-1", "alg": "RS256", "use": "sig",
		"n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())}}})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(set)
	}))
	t.Cleanup(srv.Close)
	return &e2eIssuerKeys{key: k, jwks: srv}
}

func (i *e2eIssuerKeys) mint(t *testing.T, sub string, scope any, ttl time.Duration) string {
	t.Helper()
	now := time.Now()
	c := jwt.MapClaims{"iss": e2eIssuer, "aud": e2eAudience, "sub": sub, "iat": now.Unix(), "exp": now.Add(ttl).Unix()}
	if s, ok := scope.(string); ok {
		c["scope"] = s
	} else {
		c["scp"] = scope
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	tok.Header["kid"] = "e2e-1"
	s, err := tok.SignedString(i.key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestJWTEndToEnd(t *testing.T) {
	idp := newE2EIssuer(t)
	m := startMain(t, pgtest.NewURL(t), func(c *config.Config) {
		c.JWKSURL, c.JWTIssuer, c.JWTAudience = idp.jwks.URL, e2eIssuer, e2eAudience
	})
	ehr := idp.mint(t, "emr-interface", "system/Patient.write system/Encounter.write system/Condition.write system/Procedure.write system/Coverage.write system/DocumentReference.write", 5*time.Minute)
	if r := sendAs(t, m, "POST", "/fhir", sample(t), ehr); r.code != 200 {
		t.Fatalf("Bundle with an ehr-scoped JWT = %d %s", r.code, r.body)
	}
	biller := idp.mint(t, "billing-svc", []string{"system/Claim.read"}, 5*time.Minute)
	if r := sendAs(t, m, "GET", "/fhir/Claim", nil, biller); r.code != 200 || !strings.Contains(string(r.body), `"searchset"`) {
		t.Fatalf("Claim search with a biller-scoped JWT = %d %s", r.code, r.body)
	}
	if code, body := apiCall(t, m, "GET", "/api/v1/work-items", biller); code != 403 {
		t.Fatalf("worklist with a biller-scoped JWT = %d %v, want 403", code, body)
	}
	if code, _ := apiCall(t, m, "GET", "/api/v1/work-items", "e2e-coder-token"); code != 200 {
		t.Fatalf("static coder token beside JWTs = %d", code)
	}
	expired := idp.mint(t, "emr-interface", "system/*.write", -time.Hour)
	if r := sendAs(t, m, "POST", "/fhir", sample(t), expired); r.code != 401 || strings.Contains(string(r.body), expired) {
		t.Fatalf("expired JWT = %d %s, want 401 without the token", r.code, r.body)
	}
	// The JWT principal is who the audit log names.
	entries, _ := adminAudit(t, m, "principal=billing-svc")
	if diff := cmp.Diff([]string{"biller GET /api/v1/work-items 403", "biller GET /fhir/Claim 200"}, auditSummary(entries)); diff != "" {
		t.Errorf("audit of the JWT biller mismatch (-want +got):\n%s", diff)
	}
}

// auditRow is an audit entry as the admin listing answers it.
type auditRow struct {
	At        time.Time
	Principal string
	Role      string
	Method    string
	Route     string
	Resource  string
	Version   string
	WorkItem  string
	Encounter string
	Patient   string
	Params    []string
	Status    int
	RequestID string
}

func adminAudit(t *testing.T, m *Main, query string) ([]auditRow, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+m.Addr+"/api/v1/admin/audit?"+query, nil)
	req.Header.Set("Authorization", "Bearer "+adminTok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Entries    []auditRow
		NextCursor string
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 {
		t.Fatalf("admin audit ?%s = %d (%v)", query, resp.StatusCode, err)
	}
	return body.Entries, body.NextCursor
}

func auditSummary(rows []auditRow) []string {
	var out []string
	for _, r := range rows {
		out = append(out, fmt.Sprintf("%s %s %s %d", r.Role, r.Method, r.Route, r.Status))
	}
	return out
}

func TestAuditEndToEnd(t *testing.T) {
	dbURL := pgtest.NewURL(t)
	m := startMain(t, dbURL, func(c *config.Config) {
		c.Tokens = append(c.Tokens, config.Token{Name: "audrey", Role: workitem.RoleAuditor, Value: "e2e-auditor-token"},
			config.Token{Name: "bill", Role: workitem.RoleBiller, Value: billerTok})
	})
	r := send(t, m, "POST", "/fhir", sample(t))
	if r.code != 200 {
		t.Fatalf("sample = %d %s", r.code, r.body)
	}
	var condID, encID, patID string
	if err := m.DB.QueryRow(`SELECT id, encounter_id, patient_id FROM resources WHERE type = 'Condition' ORDER BY id LIMIT 1`).Scan(&condID, &encID, &patID); err != nil {
		t.Fatal(err)
	}
	read := send(t, m, "GET", "/fhir/Condition/"+condID, nil)
	if read.code != 200 {
		t.Fatalf("read = %d", read.code)
	}
	code, list := apiCall(t, m, "GET", "/api/v1/work-items?encounter=Encounter/"+encID, "e2e-coder-token")
	if code != 200 || len(list["items"].([]any)) != 1 {
		t.Fatalf("worklist = %d %v", code, list)
	}
	itemID := list["items"].([]any)[0].(map[string]any)["id"].(string)
	if code, _ := apiCall(t, m, "GET", "/api/v1/work-items/"+itemID, "e2e-coder-token"); code != 200 {
		t.Fatalf("item = %d", code)
	}
	if r := sendAs(t, m, "GET", "/fhir/Claim?patient=Patient/"+patID, nil, billerTok); r.code != 200 {
		t.Fatalf("Claim search = %d %s", r.code, r.body)
	}
	if code, _ := apiCall(t, m, "GET", "/api/v1/admin/audit", "e2e-auditor-token"); code != 403 {
		t.Fatalf("auditor on the admin audit listing = %d, want 403", code)
	}

	// Exactly one row for the ehr's read, with who, what, when, outcome.
	rows, next := adminAudit(t, m, "principal=ehr1")
	want := []auditRow{{Principal: "ehr1", Role: "ehr", Method: "GET", Route: "/fhir/:type/:id", Resource: "Condition/" + condID,
		Encounter: "Encounter/" + encID, Patient: "Patient/" + patID, Params: []string{}, Status: 200,
		RequestID: read.header.Get("X-Request-Id")}}
	if len(rows) == 1 {
		want[0].At = rows[0].At
	}
	if diff := cmp.Diff(want, rows); diff != "" || next != "" || time.Since(rows[0].At) > time.Hour {
		t.Fatalf("ehr1's audit rows mismatch (-want +got):\n%s(next %q)", diff, next)
	}

	// By patient: every read that concerned the patient, newest first.
	rows, _ = adminAudit(t, m, "patient=Patient/"+patID)
	wantRoutes := []string{"biller GET /fhir/Claim 200", "coder GET /api/v1/work-items/:id 200", "coder GET /api/v1/work-items 200", "ehr GET /fhir/:type/:id 200"}
	if diff := cmp.Diff(wantRoutes, auditSummary(rows)); diff != "" {
		t.Errorf("patient's audit rows mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"patient"}, rows[0].Params); diff != "" {
		t.Errorf("Claim search params mismatch (-want +got):\n%s", diff)
	}
	// By time: nothing before the test; since the first read, those four
	// and the admin's two listings of this patient's reads, which are reads
	// of the patient's record too.
	if rows, _ := adminAudit(t, m, "patient=Patient/"+patID+"&to=2000-01-01"); len(rows) != 0 {
		t.Errorf("rows before 2000: %v", auditSummary(rows))
	}
	from := url.QueryEscape(rows[len(rows)-1].At.Format(time.RFC3339Nano))
	got, _ := adminAudit(t, m, "patient=Patient/"+patID+"&from="+from)
	wantRoutes = append([]string{"admin GET /api/v1/admin/audit 200", "admin GET /api/v1/admin/audit 200"}, wantRoutes...)
	if diff := cmp.Diff(wantRoutes, auditSummary(got)); diff != "" {
		t.Errorf("rows from the first read mismatch (-want +got):\n%s", diff)
	}
	// The auditor's refused attempt is on record, and no body is.
	if rows, _ := adminAudit(t, m, "principal=audrey"); !cmp.Equal(auditSummary(rows), []string{"auditor GET /api/v1/admin/audit 403"}) {
		t.Errorf("auditor's rows = %v", auditSummary(rows))
	}
	if n := count(t, m, `SELECT count(*) FROM audit_log WHERE array_to_string(params, ',') || target || patient || principal LIKE '%Rivera%'`); n != 0 {
		t.Errorf("%d audit rows hold a patient's name", n)
	}
}

func TestAuditFlushedOnShutdown(t *testing.T) {
	dbURL := pgtest.NewURL(t)
	m := startMain(t, dbURL)
	if r := send(t, m, "POST", "/fhir/Patient", []byte(patientJSON)); r.code != 201 {
		t.Fatalf("create = %d", r.code)
	}
	var ids []string
	for range 20 {
		r := send(t, m, "GET", "/fhir/Patient/nope", nil)
		ids = append(ids, r.header.Get("X-Request-Id"))
	}
	if err := m.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	db, err := sql.Open("postgres", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM audit_log WHERE request_id = ANY(string_to_array($1, ',')) AND status = 404`,
		strings.Join(ids, ",")).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != len(ids) {
		t.Fatalf("%d of %d reads on record after shutdown", n, len(ids))
	}
}
