package httpapi

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// The worklist lists, reads and leases items for coders (auditors list
// and read).
func TestWorkItems(t *testing.T) {
	tests := []struct {
		name, method, path, token string
		status                    int
		want                      []string // ids answered, in order
		next                      string   // the list's nextCursor
		errCode                   string
	}{
		{"list", "GET", "/api/v1/work-items", coderTok, 200, []string{"w2", "w1", "w3"}, "", ""},
		{"by status", "GET", "/api/v1/work-items?status=ready", auditorTok, 200, []string{"w2", "w1"}, "", ""},
		{"a page", "GET", "/api/v1/work-items?limit=1", coderTok, 200, []string{"w2"}, "1", ""},
		{"by encounter", "GET", "/api/v1/work-items?encounter=Encounter/e3", coderTok, 200, []string{"w3"}, "", ""},
		{"bad status", "GET", "/api/v1/work-items?status=done", coderTok, 400, nil, "", "invalid"},
		{"bad encounter", "GET", "/api/v1/work-items?encounter=e3", coderTok, 400, nil, "", "invalid"},
		{"bad limit", "GET", "/api/v1/work-items?limit=501", coderTok, 400, nil, "", "invalid"},
		{"bad sort", "GET", "/api/v1/work-items?sort=age", coderTok, 400, nil, "", "invalid"},
		{"left by the straight-through coder", "GET", "/api/v1/work-items?autocode=skipped", coderTok, 200, []string{"w1"}, "", ""},
		{"coded straight through", "GET", "/api/v1/work-items?autocode=coded", coderTok, 200, []string{"w3"}, "", ""},
		{"bad autocode", "GET", "/api/v1/work-items?autocode=maybe", coderTok, 400, nil, "", "invalid"},
		{"ehr may not list", "GET", "/api/v1/work-items", ehrTok, 403, nil, "", "forbidden"},
		{"get", "GET", "/api/v1/work-items/w3", auditorTok, 200, []string{"w3"}, "", ""},
		{"get a missing item", "GET", "/api/v1/work-items/none", coderTok, 404, nil, "", "not_found"},
		{"next", "POST", "/api/v1/work-items/next", coderTok, 200, []string{"w2"}, "", ""},
		{"auditor may not lease", "POST", "/api/v1/work-items/next", auditorTok, 403, nil, "", "forbidden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, st := apiServer(t)
			w1, w2, w3 := item("w1", 1), item("w2", 1), item("w3", 1)
			w2.Priority, w3.Status, w3.Encounter = 5, workitem.OnHold, "Encounter/e3"
			w1.AutoCode = &workitem.AutoDecision{Decision: workitem.AutoSkipped, Reasons: []workitem.AutoReason{{Code: "RANK_TIE", Message: "rank 1 is shared"}}}
			w3.AutoCode = &workitem.AutoDecision{Decision: workitem.AutoCoded, Reasons: []workitem.AutoReason{}}
			for _, it := range []workitem.Item{w1, w2, w3} {
				st.PutItem(it)
			}
			rec := send(t, s, request{method: tt.method, path: tt.path, token: tt.token})
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if tt.status >= 400 {
				if got := apiErrorOf(t, rec).Code; got != tt.errCode {
					t.Errorf("error code %q, want %q", got, tt.errCode)
				}
				return
			}
			var list struct {
				Items      []itemAnswer `json:"items"`
				NextCursor *string      `json:"nextCursor"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil {
				t.Fatal(err)
			}
			if list.NextCursor == nil { // a single item
				list.Items = []itemAnswer{itemAnswerOf(t, rec)}
			} else if *list.NextCursor != tt.next {
				t.Errorf("nextCursor %q, want %q", *list.NextCursor, tt.next)
			}
			var ids []string
			for _, it := range list.Items {
				ids = append(ids, it.ID)
			}
			if diff := cmp.Diff(tt.want, ids); diff != "" {
				t.Errorf("items mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// next answers 204 when nothing is ready, and leases with the configured
// cap and duration.
func TestWorkItemsNextEmpty(t *testing.T) {
	s, st := apiServer(t)
	rec := send(t, s, request{method: "POST", path: "/api/v1/work-items/next", token: coderTok})
	if rec.Code != 204 || rec.Body.Len() != 0 {
		t.Errorf("status %d body %q, want 204 and none", rec.Code, rec.Body)
	}
	if diff := cmp.Diff([]string{"LeaseNextChart(alice, max=2, lease=1m0s)"}, st.Calls()); diff != "" {
		t.Errorf("store calls mismatch (-want +got):\n%s", diff)
	}
}

// The single-item view carries the straight-through decision, reasons as
// "CODE: sentence", on every item the auto-coder looked at (CONTRACT §4),
// and no autocode key on the others.
func TestWorkItemAutocodeView(t *testing.T) {
	s, st := apiServer(t)
	w1, w2 := item("w1", 1), item("w2", 1)
	w1.AutoCode = &workitem.AutoDecision{Decision: workitem.AutoSkipped, Reasons: []workitem.AutoReason{
		{Code: "DX_NOT_CONFIRMED", Message: "Condition/c1 is differential"}, {Code: "SEX_CONFLICT", Message: "O80 is obstetric"}}}
	st.PutItem(w1)
	st.PutItem(w2)
	for _, tt := range []struct {
		id   string
		want any
	}{
		{"w1", map[string]any{"decision": "skipped", "reasons": []any{"DX_NOT_CONFIRMED: Condition/c1 is differential", "SEX_CONFLICT: O80 is obstetric"}}},
		{"w2", nil},
	} {
		rec := send(t, s, request{method: "GET", path: "/api/v1/work-items/" + tt.id, token: coderTok})
		var got map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != 200 {
			t.Fatalf("%s: %d %s", tt.id, rec.Code, rec.Body)
		}
		if diff := cmp.Diff(tt.want, got["autocode"]); diff != "" {
			t.Errorf("%s: autocode mismatch (-want +got):\n%s", tt.id, diff)
		}
	}
}
