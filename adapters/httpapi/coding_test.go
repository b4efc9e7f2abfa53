package httpapi

import (
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/codebridge/codebridge/mapping/workitem"
)

const testCodes = `{"diagnoses":[{"code":"I10","poa":"Y"}],"lines":[{"code":"99213","units":1,"diagnoses":[1]}]}`

// itemAnswer is what the coding tests compare of a work-item body.
type itemAnswer struct {
	ID      string              `json:"id"`
	Status  workitem.Status     `json:"status"`
	Version int                 `json:"version"`
	Codes   workitem.Assignment `json:"codes"`
	Queries []workitem.Query    `json:"queries"`
}

func itemAnswerOf(t testing.TB, rec *httptest.ResponseRecorder) itemAnswer {
	t.Helper()
	var a itemAnswer
	if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
		t.Fatalf("body is no work item (%v): %s", err, rec.Body)
	}
	return a
}

// PUT codes saves through the store with the If-Match version and the
// configured lease, and answers the item re-read, with its ETag.
func TestCodingSaveCodes(t *testing.T) {
	put := func(token string, header map[string]string, body string) request {
		return request{method: "PUT", path: "/api/v1/work-items/w1/codes", token: token, body: body, header: header}
	}
	tests := []struct {
		name      string
		req       request
		status    int
		etag      string
		errCode   string // the JSON error's code when status >= 400
		wantCalls []string
		status0   workitem.Status // the item's status before (default in_progress, leased to alice)
	}{
		{"save", put(coderTok, nil, testCodes), 200, `W/"4"`, "",
			[]string{"SaveCodes(w1, alice, ifVersion=0, lease=1m0s)", "GetItem(w1)"}, ""},
		{"auditor saves in review, with If-Match", put(auditorTok, map[string]string{"If-Match": `W/"3"`}, testCodes), 200, `W/"4"`, "",
			[]string{"SaveCodes(w1, audrey, ifVersion=3, lease=1m0s)", "GetItem(w1)"}, workitem.InReview},
		{"auditor may not code a leased item", put(auditorTok, nil, testCodes), 403, "", "forbidden",
			[]string{"SaveCodes(w1, audrey, ifVersion=0, lease=1m0s)"}, ""},
		{"stale If-Match", put(coderTok, map[string]string{"If-Match": `W/"2"`}, testCodes), 412, "", "precondition_failed",
			[]string{"SaveCodes(w1, alice, ifVersion=2, lease=1m0s)"}, ""},
		{"malformed If-Match", put(coderTok, map[string]string{"If-Match": `W/"three"`}, testCodes), 400, "", "invalid", nil, ""},
		{"unknown field", put(coderTok, nil, `{"diagnosis":[]}`), 400, "", "invalid", nil, ""},
		{"not JSON", put(coderTok, map[string]string{"Content-Type": "text/plain"}, testCodes), 415, "", "unsupported_media_type", nil, ""},
		{"missing item", request{method: "PUT", path: "/api/v1/work-items/none/codes", token: coderTok, body: testCodes}, 404, "", "not_found",
			[]string{"SaveCodes(none, alice, ifVersion=0, lease=1m0s)"}, ""},
		{"no token", put("", nil, testCodes), 401, "", "unauthorized", nil, ""},
		{"ehr may not code", put(ehrTok, nil, testCodes), 403, "", "forbidden", nil, ""},
		{"biller may not code", put(billerTok, nil, testCodes), 403, "", "forbidden", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, st := apiServer(t)
			it := leased("w1", 3)
			if tt.status0 != "" {
				it.Status = tt.status0
			}
			st.PutItem(it)
			rec := send(t, s, tt.req)
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if diff := cmp.Diff(tt.wantCalls, st.Calls()); diff != "" {
				t.Errorf("store calls mismatch (-want +got):\n%s", diff)
			}
			if tt.status >= 400 {
				if got := apiErrorOf(t, rec).Code; got != tt.errCode {
					t.Errorf("error code = %q, want %q", got, tt.errCode)
				}
				return
			}
			if got := rec.Header().Get("ETag"); got != tt.etag {
				t.Errorf("ETag = %q, want %q", got, tt.etag)
			}
			var want workitem.Assignment
			if err := json.Unmarshal([]byte(testCodes), &want); err != nil {
				t.Fatal(err)
			}
			got := itemAnswerOf(t, rec)
			if diff := cmp.Diff(itemAnswer{ID: "w1", Status: it.Status, Version: 4, Codes: want, Queries: []workitem.Query{}}, got); diff != "" {
				t.Errorf("item mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// The store's refusals reach the client as their kinds: a rule that
// forbids (403), a state conflict (409), an unmet business rule (422).
func TestCodingStoreRefusals(t *testing.T) {
	tests := []struct {
		method string
		req    request
		err    *workitem.Error
		status int
	}{
		{"SaveCodes", request{method: "PUT", path: "/api/v1/work-items/w1/codes", token: coderTok, body: testCodes},
			workitem.Errorf(workitem.Forbidden, "leased to someone else"), 403},
		{"Submit", request{method: "POST", path: "/api/v1/work-items/w1/submit", token: coderTok, body: `{}`},
			workitem.Errorf(workitem.Unprocessable, "edits with errors"), 422},
		{"Submit", request{method: "POST", path: "/api/v1/work-items/w1/submit", token: coderTok, body: `{}`},
			workitem.Errorf(workitem.Conflict, "not in progress"), 409},
		{"OpenQuery", request{method: "POST", path: "/api/v1/work-items/w1/queries", token: coderTok, body: `{"question":"?"}`},
			workitem.Errorf(workitem.Conflict, "not in progress"), 409},
		{"AnswerQuery", request{method: "POST", path: "/api/v1/work-items/w1/queries/q1/answer", token: ehrTok, body: `{"answer":"yes"}`},
			workitem.Errorf(workitem.NotFound, "no query q1"), 404},
	}
	for _, tt := range tests {
		t.Run(tt.method+"/"+tt.err.Kind.String(), func(t *testing.T) {
			s, st := apiServer(t)
			st.PutItem(leased("w1", 3))
			st.SetErr(tt.method, tt.err)
			rec := send(t, s, tt.req)
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if diff := cmp.Diff(apiErrorBody{Code: tt.err.Kind.String(), Message: tt.err.Message}, apiErrorOf(t, rec)); diff != "" {
				t.Errorf("error mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// Submit, a physician query and its answer, through the coding routes.
func TestCodingSubmitAndQuery(t *testing.T) {
	s, st := apiServer(t)
	st.PutItem(leased("w1", 3))
	st.PutItem(leased("w2", 3))
	steps := []struct {
		name   string
		req    request
		status int
		want   string // "status/version" of the item answered, or the query's "id/status"
	}{
		{"submit", request{method: "POST", path: "/api/v1/work-items/w1/submit", token: coderTok, body: `{"acknowledgeWarnings":true}`}, 200, "completed/5"},
		{"submit with an unknown field", request{method: "POST", path: "/api/v1/work-items/w1/submit", token: coderTok, body: `{"ack":true}`}, 400, ""},
		{"auditor may not query", request{method: "POST", path: "/api/v1/work-items/w2/queries", token: auditorTok, body: `{"question":"?"}`}, 403, ""},
		{"open a query", request{method: "POST", path: "/api/v1/work-items/w2/queries", token: coderTok,
			body: `{"question":"Which type of heart failure?","options":["systolic","diastolic"]}`}, 201, "q1/open"},
		{"biller may not answer", request{method: "POST", path: "/api/v1/work-items/w2/queries/q1/answer", token: billerTok, body: `{"answer":"systolic"}`}, 403, ""},
		{"ehr answers", request{method: "POST", path: "/api/v1/work-items/w2/queries/q1/answer", token: ehrTok, body: `{"answer":"systolic"}`}, 200, "ready/5"},
		{"answered twice", request{method: "POST", path: "/api/v1/work-items/w2/queries/q1/answer", token: coderTok, body: `{"answer":"systolic"}`}, 409, ""},
	}
	for _, tt := range steps {
		rec := send(t, s, tt.req)
		if rec.Code != tt.status {
			t.Fatalf("%s: status = %d, want %d: %s", tt.name, rec.Code, tt.status, rec.Body)
		}
		switch {
		case tt.status >= 400:
			apiErrorOf(t, rec)
		case tt.status == 201:
			var q workitem.Query
			if err := json.Unmarshal(rec.Body.Bytes(), &q); err != nil || q.ID+"/"+q.Status != tt.want || q.AskedBy != "alice" {
				t.Errorf("%s: query %s (%v), want %s asked by alice", tt.name, rec.Body, err, tt.want)
			}
		default:
			got := itemAnswerOf(t, rec)
			if s := string(got.Status) + "/" + itoa(got.Version); s != tt.want {
				t.Errorf("%s: item %s, want %s", tt.name, s, tt.want)
			}
		}
	}
	want := "Submit(w1, alice, ack=true, qa=0.25)"
	if calls := st.Calls(); calls[0] != want {
		t.Errorf("first call %q, want %q", calls[0], want)
	}
}
