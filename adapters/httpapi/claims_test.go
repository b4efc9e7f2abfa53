package httpapi

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/codebridge/codebridge/mapping/workitem"
	"github.com/codebridge/codebridge/mapping/workitem/workitemtest"
)

func testClaim(id, v string) []byte {
	return []byte(`{"resourceType":"Claim","id":"` + id + `","meta":{"versionId":"` + v + `"},"status":"active"}`)
}

// claimServer has Claims c1 (two versions), c2, c3, and a Provenance pr1.
func claimServer(t testing.TB) (*Server, *workitemtest.Store) {
	t.Helper()
	s, st := apiServer(t)
	st.AddClaim("c1", testClaim("c1", "1"))
	st.AddClaim("c1", testClaim("c1", "2"))
	st.AddClaim("c2", testClaim("c2", "1"))
	st.AddClaim("c3", testClaim("c3", "1"))
	prov := []byte(`{"resourceType":"Provenance","id":"pr1","meta":{"versionId":"1"}}`)
	_, err := st.WriteResources(context.Background(), "codebridge", []workitem.ResourceWrite{{Type: "Provenance", ID: "pr1", Method: "PUT",
		Hash: []byte{1}, Serve: func(int, time.Time) ([]byte, error) { return prov, nil }}})
	if err != nil {
		t.Fatal(err)
	}
	return s, st
}

// Claims are read-only FHIR for billers and auditors.
func TestClaimReads(t *testing.T) {
	get := func(path, token string) request { return request{method: "GET", path: path, token: token} }
	s, _ := claimServer(t)
	runSteps(t, s, []step{
		{name: "read", req: get("/fhir/Claim/c1", billerTok), status: 200, served: "Claim/c1/2", header: fhirHeaders(`W/"2"`)},
		{name: "vread", req: get("/fhir/Claim/c1/_history/1", auditorTok), status: 200, served: "Claim/c1/1", header: fhirHeaders(`W/"1"`)},
		{name: "admin reads", req: get("/fhir/Claim/c1", adminTok), status: 200, served: "Claim/c1/2"},
		{name: "vread of no version", req: get("/fhir/Claim/c1/_history/3", billerTok), status: 404, codes: []string{"not-found"}},
		{name: "vread of a bad version", req: get("/fhir/Claim/c1/_history/0", billerTok), status: 404, codes: []string{"not-found"}},
		{name: "missing", req: get("/fhir/Claim/none", billerTok), status: 404, codes: []string{"not-found"}},
		{name: "provenance", req: get("/fhir/Provenance/pr1", billerTok), status: 200, served: "Provenance/pr1/1"},
		{name: "no token", req: get("/fhir/Claim/c1", ""), status: 401, codes: []string{"login"}},
		{name: "coder may not read", req: get("/fhir/Claim/c1", coderTok), status: 403, codes: []string{"forbidden"}},
		{name: "ehr may not read", req: get("/fhir/Claim/c1", ehrTok), status: 403, codes: []string{"forbidden"}},
		{name: "ehr may not read provenance", req: get("/fhir/Provenance/pr1", ehrTok), status: 403, codes: []string{"forbidden"}},
		{name: "POST", req: request{method: "POST", path: "/fhir/Claim", token: ehrTok, body: `{}`}, status: 405, codes: []string{"not-supported"}},
		{name: "PUT", req: request{method: "PUT", path: "/fhir/Claim/c1", token: adminTok, body: `{}`}, status: 405, codes: []string{"not-supported"}},
		{name: "DELETE", req: request{method: "DELETE", path: "/fhir/Claim/c1", token: billerTok}, status: 405, codes: []string{"not-supported"}},
	})
}

// Claim search answers a searchset Bundle with self and next links, and
// refuses parameters it does not support.
func TestClaimSearch(t *testing.T) {
	type page struct {
		IDs   []string
		Links map[string]string // relation -> query of the link
	}
	tests := []struct {
		name   string
		query  string
		status int
		want   page
		filter string // a part of the filter the store received
	}{
		{"all", "", 200, page{IDs: []string{"c1", "c2", "c3"}, Links: map[string]string{"self": ""}}, "Count:0"},
		{"first page", "_count=2", 200, page{IDs: []string{"c1", "c2"}, Links: map[string]string{"self": "_count=2", "next": "_count=2&_cursor=2"}}, "Count:2"},
		{"next page", "_count=2&_cursor=2", 200, page{IDs: []string{"c3"}, Links: map[string]string{"self": "_count=2&_cursor=2"}}, "Cursor:2"},
		{"by encounter", "encounter=Encounter/e1", 200, page{IDs: []string{"c1", "c2", "c3"}, Links: map[string]string{"self": "encounter=Encounter%2Fe1"}}, "Encounter:e1"},
		{"by patient and status", "patient=p1&status=cancelled", 200, page{IDs: []string{"c1", "c2", "c3"},
			Links: map[string]string{"self": "patient=p1&status=cancelled"}}, "Patient:p1 Status:cancelled"},
		{"since", "_lastUpdated=gt2026-01-01", 200, page{IDs: []string{"c1", "c2", "c3"}, Links: map[string]string{"self": "_lastUpdated=gt2026-01-01"}}, "UpdatedAfter:2026-01-01 00:00:00 +0000 UTC"},
		{"unknown parameter", "code=x", 400, page{}, ""},
		{"bad count", "_count=500", 400, page{}, ""},
		{"bad status", "status=draft", 400, page{}, ""},
		{"bad encounter", "encounter=Patient/p1/x", 400, page{}, ""},
		{"lastUpdated without gt", "_lastUpdated=2026-01-01", 400, page{}, ""},
		{"bad cursor", "_cursor=x", 400, page{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, st := claimServer(t)
			rec := send(t, s, request{method: "GET", path: "/fhir/Claim?" + tt.query, token: billerTok})
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if tt.status != 200 {
				if diff := cmp.Diff([]string{"structure"}, issueCodes(t, rec)); diff != "" {
					t.Errorf("issue codes mismatch (-want +got):\n%s", diff)
				}
				return
			}
			var b searchBundle
			if err := json.Unmarshal(rec.Body.Bytes(), &b); err != nil || b.ResourceType != "Bundle" || b.Type != "searchset" {
				t.Fatalf("body is no searchset (%v): %s", err, rec.Body)
			}
			got := page{Links: map[string]string{}}
			for _, e := range b.Entry {
				got.IDs = append(got.IDs, strings.TrimPrefix(e.FullURL, "http://example.com/fhir/Claim/"))
				if e.Search["mode"] != "match" {
					t.Errorf("entry %s: search %v", e.FullURL, e.Search)
				}
			}
			for _, l := range b.Link {
				u, err := url.Parse(l.URL)
				if err != nil || u.Scheme+"://"+u.Host+u.Path != "http://example.com/fhir/Claim" {
					t.Errorf("link %s: %s", l.Relation, l.URL)
				}
				got.Links[l.Relation] = u.RawQuery
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("page mismatch (-want +got):\n%s", diff)
			}
			if calls := strings.Join(st.Calls(), "\n"); !strings.Contains(calls, tt.filter) {
				t.Errorf("store calls %s, want a filter with %s", calls, tt.filter)
			}
		})
	}
}
