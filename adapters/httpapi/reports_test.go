package httpapi

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/codebridge/codebridge/mapping/workitem"
	"github.com/codebridge/codebridge/mapping/workitem/workitemtest"
)

var testReports = workitemtest.Reports{
	Backlog:         workitem.BacklogReport{AsOf: workitemtest.Now, ByStatus: map[workitem.Status]int{workitem.Ready: 3}, Open: 3, DNFB: 1},
	Productivity:    workitem.ProductivityReport{From: "2026-01-01", To: "2026-01-31", Coders: []workitem.CoderProductivity{{Coder: "alice", Items: 4}}},
	Accuracy:        workitem.AccuracyReport{Coders: []workitem.CoderAccuracy{{Coder: "alice", Reviewed: 2, Accurate: 1, Rate: 0.5}}},
	Queries:         workitem.QueryReport{Count: 2, Open: 1, Answered: 1},
	StraightThrough: workitem.StraightThroughReport{Completed: 4, AutoCoded: 1, CoderCoded: 3, Rate: 0.25},
}

// The reports answer the store's report as JSON, over the range asked
// (productivity: the last 30 days by default), for auditors only.
func TestReports(t *testing.T) {
	today := time.Now().UTC().Truncate(24 * time.Hour)
	last30 := today.AddDate(0, 0, -29).Format(time.DateOnly) + ".." + today.Format(time.DateOnly)
	tests := []struct {
		name, path, token string
		status            int
		want              any    // the report answered
		call              string // the store call made
		errCode           string
		errAt             string // the first detail's expression
	}{
		{"backlog", "/api/v1/reports/backlog", auditorTok, 200, testReports.Backlog, "Backlog()", "", ""},
		{"admin reads", "/api/v1/reports/backlog", adminTok, 200, testReports.Backlog, "Backlog()", "", ""},
		{"productivity by default", "/api/v1/reports/productivity", auditorTok, 200, testReports.Productivity, "Productivity(" + last30 + ")", "", ""},
		{"productivity from to", "/api/v1/reports/productivity?from=2026-01-01&to=2026-01-31", auditorTok, 200, testReports.Productivity,
			"Productivity(2026-01-01..2026-01-31)", "", ""},
		{"accuracy", "/api/v1/reports/accuracy?from=2026-01-01", auditorTok, 200, testReports.Accuracy, "Accuracy(2026-01-01..)", "", ""},
		{"queries", "/api/v1/reports/queries?to=2026-02-01", auditorTok, 200, testReports.Queries, "Queries(..2026-02-01)", "", ""},
		{"straight-through", "/api/v1/reports/straight-through", auditorTok, 200, testReports.StraightThrough, "StraightThrough(..)", "", ""},
		{"bad from", "/api/v1/reports/accuracy?from=yesterday", auditorTok, 400, nil, "", "invalid", "from"},
		{"to before from", "/api/v1/reports/queries?from=2026-02-01&to=2026-01-01", auditorTok, 400, nil, "", "invalid", "to"},
		{"coder may not", "/api/v1/reports/backlog", coderTok, 403, nil, "", "forbidden", ""},
		{"ehr may not", "/api/v1/reports/productivity", ehrTok, 403, nil, "", "forbidden", ""},
		{"no token", "/api/v1/reports/backlog", "", 401, nil, "", "unauthorized", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, st := apiServer(t)
			st.SetReports(testReports)
			rec := send(t, s, request{method: "GET", path: tt.path, token: tt.token})
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if tt.status != 200 {
				e := apiErrorOf(t, rec)
				at := ""
				if len(e.Details) > 0 && len(e.Details[0].Expression) > 0 {
					at = e.Details[0].Expression[0]
				}
				if e.Code != tt.errCode || at != tt.errAt {
					t.Errorf("error %s at %q, want %s at %q", e.Code, at, tt.errCode, tt.errAt)
				}
				if calls := st.Calls(); len(calls) != 0 {
					t.Errorf("a refused request reached the store: %v", calls)
				}
				return
			}
			want, err := json.Marshal(tt.want)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want)+"\n", rec.Body.String()); diff != "" {
				t.Errorf("body mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{tt.call}, st.Calls()); diff != "" {
				t.Errorf("store calls mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// A report whose store is down answers 503 with the JSON error.
func TestReportsStoreDown(t *testing.T) {
	s, st := apiServer(t)
	st.SetErr("Backlog", workitem.Errorf(workitem.Transient, "database unavailable"))
	rec := send(t, s, request{method: "GET", path: "/api/v1/reports/backlog", token: auditorTok})
	if rec.Code != 503 || apiErrorOf(t, rec).Code != "unavailable" {
		t.Errorf("status %d: %s", rec.Code, rec.Body)
	}
}

// Physician-query Communications are read on /fhir by coders, auditors
// and the EHR.
func TestReportsCommunication(t *testing.T) {
	s, st := apiServer(t)
	raw := []byte(`{"resourceType":"Communication","id":"cq1","meta":{"versionId":"1"}}`)
	if _, err := st.WriteResources(context.Background(), "codebridge", []workitem.ResourceWrite{{Type: "Communication", ID: "cq1", Method: "PUT",
		Hash: []byte{1}, Serve: func(int, time.Time) ([]byte, error) { return raw, nil }}}); err != nil {
		t.Fatal(err)
	}
	get := func(path, token string) request { return request{method: "GET", path: path, token: token} }
	runSteps(t, s, []step{
		{name: "coder reads", req: get("/fhir/Communication/cq1", coderTok), status: 200, served: "Communication/cq1/1", header: fhirHeaders(`W/"1"`)},
		{name: "ehr vreads", req: get("/fhir/Communication/cq1/_history/1", ehrTok), status: 200, served: "Communication/cq1/1"},
		{name: "auditor reads", req: get("/fhir/Communication/cq1", auditorTok), status: 200},
		{name: "biller may not", req: get("/fhir/Communication/cq1", billerTok), status: 403, codes: []string{"forbidden"}},
		{name: "missing", req: get("/fhir/Communication/none", coderTok), status: 404, codes: []string{"not-found"}},
		{name: "bad version", req: get("/fhir/Communication/cq1/_history/v1", coderTok), status: 404, codes: []string{"not-found"}},
		{name: "no such version", req: get("/fhir/Communication/cq1/_history/2", coderTok), status: 404, codes: []string{"not-found"}},
	})
}
