package httpapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	testPatient   = `{"resourceType":"Patient","id":"p1","gender":"female","identifier":[{"system":"urn:mrn","value":"1"}]}`
	testEncounter = `{"resourceType":"Encounter","id":"e1","status":"finished","class":{"code":"AMB"},"subject":{"reference":"Patient/p1"}}`
)

// step is one request of a sequence against one server, and what it must
// answer.
type step struct {
	name   string
	req    request
	status int
	// header values must match exactly; "" must be absent; a value with a
	// "*" matches any text in its place.
	header map[string]string
	// served is "Type/id/version" of the resource in the body; "" when the
	// body is no resource.
	served string
	// codes are the issue codes of an OperationOutcome body.
	codes []string
}

func runSteps(t *testing.T, s *Server, steps []step) {
	t.Helper()
	for _, st := range steps {
		rec := send(t, s, st.req)
		if rec.Code != st.status {
			t.Fatalf("%s: %s %s = %d, want %d: %s", st.name, st.req.method, st.req.path, rec.Code, st.status, rec.Body)
		}
		for k, want := range st.header {
			if got := rec.Header().Get(k); !headerMatches(want, got) {
				t.Errorf("%s: %s = %q, want %q", st.name, k, got, want)
			}
		}
		if st.served != "" {
			if got := servedOf(t, rec); got != st.served {
				t.Errorf("%s: served %s, want %s", st.name, got, st.served)
			}
		}
		if st.codes != nil {
			if diff := cmp.Diff(st.codes, issueCodes(t, rec)); diff != "" {
				t.Errorf("%s: issue codes mismatch (-want +got):\n%s", st.name, diff)
			}
		}
	}
}

func headerMatches(want, got string) bool {
	pre, suf, wild := strings.Cut(want, "*")
	if !wild {
		return got == want
	}
	return len(got) > len(pre)+len(suf) && strings.HasPrefix(got, pre) && strings.HasSuffix(got, suf)
}

// servedOf is "Type/id/versionId" of the resource in the body.
func servedOf(t testing.TB, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var r struct {
		ResourceType, ID string
		Meta             struct{ VersionID string }
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
		t.Fatalf("body is no resource (%v): %s", err, rec.Body)
	}
	if len(r.ID) == 36 {
		r.ID = "<new>"
	}
	return r.ResourceType + "/" + r.ID + "/" + r.Meta.VersionID
}

func fhirHeaders(etag string) map[string]string {
	return map[string]string{"ETag": etag, "Last-Modified": lastModified, "Content-Type": "application/fhir+json; charset=utf-8"}
}

func withHeader(h map[string]string, k, v string) map[string]string {
	h[k] = v
	return h
}

// Single-resource writes (CONTRACT §3): create, update-as-create,
// identical re-send, If-Match, conditional create, DELETE and reads.
func TestFHIRResourceLifecycle(t *testing.T) {
	s, _ := apiServer(t)
	changed := strings.Replace(testPatient, "female", "male", 1)
	put := func(body string, header map[string]string) request {
		return request{method: "PUT", path: "/fhir/Patient/p1", token: ehrTok, body: body, header: header}
	}
	get := func(path string) request { return request{method: "GET", path: path, token: coderTok} }
	runSteps(t, s, []step{
		{name: "update as create", req: put(testPatient, nil), status: 201, served: "Patient/p1/1",
			header: withHeader(fhirHeaders(`W/"1"`), "Location", "http://example.com/fhir/Patient/p1/_history/1")},
		{name: "identical re-send", req: put(testPatient, nil), status: 200, served: "Patient/p1/1",
			header: withHeader(fhirHeaders(`W/"1"`), "Location", "")},
		{name: "stale If-Match", req: put(changed, map[string]string{"If-Match": `W/"7"`}), status: 412, codes: []string{"conflict"}},
		{name: "update with If-Match", req: put(changed, map[string]string{"If-Match": `W/"1"`}), status: 200, served: "Patient/p1/2",
			header: withHeader(fhirHeaders(`W/"2"`), "Location", "")},
		{name: "read", req: get("/fhir/Patient/p1"), status: 200, served: "Patient/p1/2", header: fhirHeaders(`W/"2"`)},
		{name: "vread", req: get("/fhir/Patient/p1/_history/1"), status: 200, served: "Patient/p1/1", header: fhirHeaders(`W/"1"`)},
		{name: "vread of no version", req: get("/fhir/Patient/p1/_history/9"), status: 404, codes: []string{"not-found"}},
		{name: "vread of a bad version", req: get("/fhir/Patient/p1/_history/x"), status: 404, codes: []string{"not-found"}},
		{name: "conditional create that matches", req: request{method: "POST", path: "/fhir/Patient", token: ehrTok, body: testPatient,
			header: map[string]string{"If-None-Exist": "identifier=urn:mrn|1"}}, status: 200, served: "Patient/p1/2",
			header: withHeader(fhirHeaders(`W/"2"`), "Location", "")},
		{name: "conditional create that does not", req: request{method: "POST", path: "/fhir/Patient", token: ehrTok, body: testPatient,
			header: map[string]string{"If-None-Exist": "identifier=urn:mrn|2"}}, status: 201, served: "Patient/<new>/1",
			header: withHeader(fhirHeaders(`W/"1"`), "Location", "http://example.com/fhir/Patient/*/_history/1")},
		{name: "delete", req: request{method: "DELETE", path: "/fhir/Patient/p1", token: ehrTok}, status: 204,
			header: map[string]string{"ETag": "", "Location": ""}},
		{name: "read of the deleted", req: get("/fhir/Patient/p1"), status: 404, codes: []string{"not-found"}},
		{name: "vread of the tombstone", req: get("/fhir/Patient/p1/_history/3"), status: 200, served: "Patient/p1/3", header: fhirHeaders(`W/"3"`)},
		{name: "delete again", req: request{method: "DELETE", path: "/fhir/Patient/p1", token: ehrTok}, status: 204},
		{name: "delete of a missing resource", req: request{method: "DELETE", path: "/fhir/Encounter/none", token: ehrTok}, status: 204},
		{name: "create after delete", req: put(testPatient, nil), status: 200, served: "Patient/p1/4", header: fhirHeaders(`W/"4"`)},
	})
}

// Refusals are OperationOutcomes with the status of their kind.
func TestFHIRWriteErrors(t *testing.T) {
	tests := []struct {
		name   string
		req    request
		status int
		codes  []string
		expr   string // the first issue's first expression, when checked
	}{
		{"type not served", request{method: "PUT", path: "/fhir/Observation/o1", token: ehrTok, body: `{}`}, 404, []string{"not-found"}, ""},
		{"type not served before the media type", request{method: "POST", path: "/fhir/Observation", token: ehrTok, body: "x",
			header: map[string]string{"Content-Type": "text/plain"}}, 404, []string{"not-found"}, ""},
		{"wrong media type", request{method: "POST", path: "/fhir/Patient", token: ehrTok, body: testPatient,
			header: map[string]string{"Content-Type": "text/plain"}}, 415, []string{"not-supported"}, ""},
		{"unparseable", request{method: "POST", path: "/fhir/Patient", token: ehrTok, body: `{"resourceType":`}, 400, nil, ""},
		{"invalid content", request{method: "PUT", path: "/fhir/Encounter/e1", token: ehrTok, body: strings.Replace(testEncounter, "finished", "done", 1)}, 422, nil, ""},
		{"type differs from the URL", request{method: "POST", path: "/fhir/Encounter", token: ehrTok, body: testPatient}, 400, []string{"invalid"}, "Patient"},
		{"id differs from the URL", request{method: "PUT", path: "/fhir/Patient/p2", token: ehrTok, body: testPatient}, 400, []string{"invalid"}, "Patient.id"},
		{"malformed If-Match", request{method: "PUT", path: "/fhir/Patient/p1", token: ehrTok, body: testPatient,
			header: map[string]string{"If-Match": "one"}}, 400, []string{"structure"}, ""},
		{"malformed If-None-Exist", request{method: "POST", path: "/fhir/Patient", token: ehrTok, body: testPatient,
			header: map[string]string{"If-None-Exist": "name=x"}}, 400, []string{"structure"}, ""},
		{"If-Match on a missing resource", request{method: "PUT", path: "/fhir/Patient/p1", token: ehrTok, body: testPatient,
			header: map[string]string{"If-Match": `W/"1"`}}, 412, []string{"conflict"}, ""},
		{"read of a missing resource", request{method: "GET", path: "/fhir/Patient/none", token: ehrTok}, 404, []string{"not-found"}, ""},
		{"delete of a type not served", request{method: "DELETE", path: "/fhir/Observation/o1", token: ehrTok}, 404, []string{"not-found"}, ""},
		{"read of a type not served", request{method: "GET", path: "/fhir/Observation/o1", token: ehrTok}, 404, []string{"not-found"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, st := apiServer(t)
			rec := send(t, s, tt.req)
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			oo := outcomeOf(t, rec)
			if len(oo.Issue) == 0 {
				t.Fatalf("no issues: %s", rec.Body)
			}
			if tt.codes != nil {
				if diff := cmp.Diff(tt.codes, issueCodes(t, rec)); diff != "" {
					t.Errorf("issue codes mismatch (-want +got):\n%s", diff)
				}
			}
			if tt.expr != "" && (len(oo.Issue[0].Expression) == 0 || oo.Issue[0].Expression[0] != tt.expr) {
				t.Errorf("expression = %v, want %s", oo.Issue[0].Expression, tt.expr)
			}
			for _, c := range st.Calls() {
				if strings.HasPrefix(c, "WriteResources") && tt.status != http.StatusPreconditionFailed {
					t.Errorf("a refused request reached the store: %s", c)
				}
			}
		})
	}
}

// Only the ehr role (and admin) writes; ehr, coder and auditor read.
func TestFHIRRoles(t *testing.T) {
	tests := []struct {
		method, path, token string
		want                int
	}{
		{"PUT", "/fhir/Patient/p1", "", 401},
		{"PUT", "/fhir/Patient/p1", coderTok, 403},
		{"PUT", "/fhir/Patient/p1", billerTok, 403},
		{"PUT", "/fhir/Patient/p1", ehrTok, 201},
		{"PUT", "/fhir/Patient/p1", adminTok, 201},
		{"POST", "/fhir", auditorTok, 403},
		{"DELETE", "/fhir/Patient/p1", coderTok, 403},
		{"GET", "/fhir/Patient/p1", "", 401},
		{"GET", "/fhir/Patient/p1", billerTok, 403},
		{"GET", "/fhir/Patient/p1", coderTok, 200},
		{"GET", "/fhir/Patient/p1", auditorTok, 200},
		{"GET", "/fhir/Patient/p1", ehrTok, 200},
	}
	for _, tt := range tests {
		s, _ := apiServer(t)
		if tt.method == "GET" {
			send(t, s, request{method: "PUT", path: "/fhir/Patient/p1", token: ehrTok, body: testPatient})
		}
		body := ""
		if tt.method == "PUT" {
			body = testPatient
		}
		rec := send(t, s, request{method: tt.method, path: tt.path, token: tt.token, body: body})
		if rec.Code != tt.want {
			t.Errorf("%s %s with %q = %d, want %d: %s", tt.method, tt.path, tt.token, rec.Code, tt.want, rec.Body)
		}
		if rec.Code >= 400 {
			outcomeOf(t, rec)
		}
	}
}

// A store failure is a 500 whose OperationOutcome names the request, not
// the cause.
func TestFHIRStoreFailure(t *testing.T) {
	s, st := apiServer(t)
	st.SetErr("WriteResources", errSecret)
	rec := send(t, s, request{method: "PUT", path: "/fhir/Patient/p1", token: ehrTok, body: testPatient})
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status = %d, want 500: %s", rec.Code, rec.Body)
	}
	if oo := outcomeOf(t, rec); strings.Contains(rec.Body.String(), "secret") || oo.Issue[0].Code != "exception" {
		t.Errorf("body = %s", rec.Body)
	}
}
