package httpapi

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func testBundle(typ string, entries ...string) string {
	return `{"resourceType":"Bundle","type":"` + typ + `","entry":[` + strings.Join(entries, ",") + `]}`
}

func testEntry(res, method, url string, extra ...string) string {
	req := `"method":"` + method + `","url":"` + url + `"`
	for _, x := range extra {
		req += "," + x
	}
	if res == "" {
		return `{"request":{` + req + `}}`
	}
	return `{"fullUrl":"urn:uuid:` + strings.ReplaceAll(url, "/", "-") + `","resource":` + res + `,"request":{` + req + `}}`
}

const testObservation = `{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"pulse"}}`

// POST /fhir answers a transaction-response or batch-response Bundle with
// one response per entry, or fails as a whole with an OperationOutcome.
func TestFHIRBundle(t *testing.T) {
	stale := `"ifMatch":"W/\"4\""`
	tests := []struct {
		name     string
		before   string // a Bundle posted first, "" for none
		body     string
		status   int
		wantType string          // Bundle.type of the response
		want     []entryResponse // without lastModified; outcomes by issue code only
		codes    []string        // OperationOutcome of a failed request
	}{
		{name: "transaction", body: testBundle("transaction", testEntry(testPatient, "PUT", "Patient/p1"), testEntry(testEncounter, "PUT", "Encounter/e1")),
			status: 200, wantType: "transaction-response", want: []entryResponse{
				{Status: "201 Created", Location: "Patient/p1/_history/1", Etag: `W/"1"`},
				{Status: "201 Created", Location: "Encounter/e1/_history/1", Etag: `W/"1"`}}},
		{name: "re-sent transaction", before: testBundle("transaction", testEntry(testPatient, "PUT", "Patient/p1")),
			body: testBundle("transaction", testEntry(testPatient, "PUT", "Patient/p1")), status: 200, wantType: "transaction-response",
			want: []entryResponse{{Status: "200 OK", Location: "Patient/p1/_history/1", Etag: `W/"1"`}}},
		{name: "transaction fails as a whole", body: testBundle("transaction", testEntry(testPatient, "PUT", "Patient/p1"), testEntry(testEncounter, "PUT", "Encounter/e1", stale)),
			status: 412, codes: []string{"conflict"}},
		{name: "batch entries fail alone", body: testBundle("batch", testEntry(testPatient, "PUT", "Patient/p1"), testEntry(testEncounter, "PUT", "Encounter/e1", stale),
			testEntry(testObservation, "PUT", "Observation/o1")),
			status: 200, wantType: "batch-response", want: []entryResponse{
				{Status: "201 Created", Location: "Patient/p1/_history/1", Etag: `W/"1"`},
				{Status: "412 Precondition Failed", Outcome: &operationOutcome{ResourceType: "OperationOutcome"}},
				{Status: "200 OK", Outcome: &operationOutcome{ResourceType: "OperationOutcome"}}}},
		{name: "delete in a batch", before: testBundle("batch", testEntry(testPatient, "PUT", "Patient/p1")),
			body: testBundle("batch", testEntry("", "DELETE", "Patient/p1")), status: 200, wantType: "batch-response",
			want: []entryResponse{{Status: "204 No Content"}}},
		{name: "too many entries", body: testBundle("batch", testEntry(testPatient, "PUT", "Patient/p1"), testEntry(testPatient, "PUT", "Patient/p1"),
			testEntry(testPatient, "PUT", "Patient/p1"), testEntry(testPatient, "PUT", "Patient/p1")), status: 413, codes: []string{"too-costly"}},
		{name: "collection", body: testBundle("collection", `{"resource":`+testPatient+`}`), status: 400, codes: []string{"value"}},
		{name: "unparseable", body: `{"resourceType":"Bundle",`, status: 400},
		{name: "not a Bundle", body: testPatient, status: 422, codes: []string{"not-supported"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := apiServer(t)
			if tt.before != "" {
				if rec := send(t, s, request{method: "POST", path: "/fhir", token: ehrTok, body: tt.before}); rec.Code != 200 {
					t.Fatalf("first Bundle: %d %s", rec.Code, rec.Body)
				}
			}
			rec := send(t, s, request{method: "POST", path: "/fhir", token: ehrTok, body: tt.body})
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if tt.status != 200 {
				oo := outcomeOf(t, rec)
				if tt.codes != nil {
					if diff := cmp.Diff(tt.codes, issueCodes(t, rec)); diff != "" {
						t.Errorf("issue codes mismatch (-want +got):\n%s", diff)
					}
				} else if len(oo.Issue) == 0 {
					t.Errorf("no issues: %s", rec.Body)
				}
				return
			}
			var got bundleResponse
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			if got.ResourceType != "Bundle" || got.Type != tt.wantType || got.ID == "" || got.Timestamp == "" {
				t.Errorf("response Bundle %s %s id %q timestamp %q", got.ResourceType, got.Type, got.ID, got.Timestamp)
			}
			var entries []entryResponse
			for _, e := range got.Entry {
				if (e.Response.LastModified != "") != (e.Response.Etag != "") {
					t.Errorf("entry %+v: lastModified without etag or the reverse", e.Response)
				}
				if e.Response.Outcome != nil && len(e.Response.Outcome.Issue) == 0 {
					t.Errorf("entry %+v: outcome without issues", e.Response)
				}
				entries = append(entries, e.Response)
			}
			opts := cmp.Options{cmpopts.IgnoreFields(entryResponse{}, "LastModified"), cmpopts.IgnoreFields(operationOutcome{}, "Issue")}
			if diff := cmp.Diff(tt.want, entries, opts); diff != "" {
				t.Errorf("entries mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// A batch entry's outcome says why: the kind's issue code, or the reason
// an entry was skipped at its place in the Bundle.
func TestFHIRBundleEntryOutcomes(t *testing.T) {
	s, _ := apiServer(t)
	body := testBundle("batch", testEntry(testEncounter, "PUT", "Encounter/e1", `"ifMatch":"W/\"4\""`), testEntry(testObservation, "PUT", "Observation/o1"))
	rec := send(t, s, request{method: "POST", path: "/fhir", token: ehrTok, body: body})
	var got bundleResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || len(got.Entry) != 2 {
		t.Fatalf("response %d: %s (%v)", rec.Code, rec.Body, err)
	}
	type issue struct{ Severity, Code, Expression string }
	var issues []issue
	for _, e := range got.Entry {
		iss := e.Response.Outcome.Issue[0]
		issues = append(issues, issue{iss.Severity, iss.Code, strings.Join(iss.Expression, ",")})
	}
	want := []issue{{"error", "conflict", ""}, {"information", "informational", "Bundle.entry[1]"}}
	if diff := cmp.Diff(want, issues); diff != "" {
		t.Errorf("issues mismatch (-want +got):\n%s", diff)
	}
}
