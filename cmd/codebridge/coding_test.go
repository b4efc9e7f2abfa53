package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
	"github.com/codebridge/codebridge/config"
	"github.com/codebridge/codebridge/mapping/workitem"
)

func apiJSON(t testing.TB, m *Main, method, path, token string, body any, headers ...string) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, "http://"+m.Addr+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func editCodes(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, e := range list {
		out = append(out, e.(map[string]any)["code"].(string))
	}
	return out
}

func TestCodingDay(t *testing.T) {
	m := startMain(t, pgtest.NewURLWithBundledCodes(t), func(c *config.Config) {
		c.Tokens = append(coderTokens(1), config.Token{Name: "bill", Role: workitem.RoleBiller, Value: "e2e-biller-token"})
		c.QASampleRate = 0
	})
	if r := send(t, m, "POST", "/fhir", sample(t)); r.code != 200 {
		t.Fatalf("sample = %d %s", r.code, r.body)
	}
	code, item := apiCall(t, m, "POST", "/api/v1/work-items/next", "e2e-coder-token")
	if code != 200 {
		t.Fatalf("next = %d", code)
	}
	id := item["id"].(string)
	base := "/api/v1/work-items/" + id

	// A header code is an error edit, and submit refuses while it stands.
	bad := map[string]any{"diagnoses": []any{map[string]any{"code": "J20"}}, "lines": []any{map[string]any{"code": "99213", "modifiers": []string{"95"}, "units": 1, "diagnoses": []int{1}}}}
	code, item = apiJSON(t, m, "PUT", base+"/codes", "e2e-coder-token", bad)
	if code != 200 || !strings.Contains(strings.Join(editCodes(item["edits"]), ","), "DX_HEADER") {
		t.Fatalf("PUT header code = %d edits %v", code, item["edits"])
	}
	if code, body := apiJSON(t, m, "POST", base+"/submit", "e2e-coder-token", map[string]any{}); code != 422 || !strings.Contains(jsonString(body), "DX_HEADER") {
		t.Fatalf("submit with error edit = %d %v", code, body)
	}
	// Others may not touch it.
	if code, _ := apiJSON(t, m, "PUT", base+"/codes", "coder-token-00", bad); code != 409 {
		t.Errorf("another coder's PUT = %d, want 409", code)
	}
	if code, _ := apiJSON(t, m, "PUT", base+"/codes", "e2e-biller-token", bad); code != 403 {
		t.Errorf("biller PUT = %d, want 403", code)
	}
	version := int(item["version"].(float64))
	if code, _ := apiJSON(t, m, "PUT", base+"/codes", "e2e-coder-token", bad, "If-Match", `W/"1"`); code != 412 {
		t.Errorf("stale If-Match = %d, want 412", code)
	}
	good := map[string]any{"diagnoses": []any{map[string]any{"code": "J20.9"}, map[string]any{"code": "I10"}},
		"lines": []any{map[string]any{"code": "99213", "modifiers": []string{"95"}, "units": 1, "diagnoses": []int{1, 2}}}}
	code, item = apiJSON(t, m, "PUT", base+"/codes", "e2e-coder-token", good, "If-Match", fmt.Sprintf(`W/"%d"`, version))
	if code != 200 {
		t.Fatalf("PUT good codes = %d %v", code, item)
	}
	for _, e := range item["edits"].([]any) {
		if e.(map[string]any)["severity"] == "error" {
			t.Fatalf("clean codes still have an error edit: %v", item["edits"])
		}
	}
	codes := jsonString(item["codes"])
	if !strings.Contains(codes, `"J20.9"`) || !strings.Contains(codes, `"99213"`) {
		t.Fatalf("codes not stored: %s", codes)
	}
	if len(item["edits"].([]any)) > 0 {
		// Warnings (e.g. CPT unverified without a CPT file) need an acknowledgement.
		if code, _ := apiJSON(t, m, "POST", base+"/submit", "e2e-coder-token", map[string]any{}); code != 422 {
			t.Fatalf("submit with unacknowledged warnings = %d, want 422", code)
		}
	}
	code, item = apiJSON(t, m, "POST", base+"/submit", "e2e-coder-token", map[string]any{"acknowledgeWarnings": true})
	if code != 200 || item["status"] != "completed" {
		t.Fatalf("submit = %d status %v (%v)", code, item["status"], item)
	}
	var statuses []string
	for _, h := range item["history"].([]any) {
		statuses = append(statuses, h.(map[string]any)["to"].(string))
	}
	if got := strings.Join(statuses, ","); got != "ready,in_progress,coded,completed" {
		t.Errorf("history = %s", got)
	}
	if code, _ := apiJSON(t, m, "PUT", base+"/codes", "e2e-coder-token", good); code != 409 {
		t.Errorf("PUT on a completed item = %d, want 409", code)
	}
}

func TestPhysicianQuery(t *testing.T) {
	m := startMain(t, pgtest.NewURL(t))
	putEncounter(t, m, "q1", "AMB", 1)
	putEncounter(t, m, "q2", "IMP", 1)
	_, item := apiCall(t, m, "POST", "/api/v1/work-items/next", "e2e-coder-token") // q2 (inpatient) first
	_, item = apiCall(t, m, "POST", "/api/v1/work-items/next", "e2e-coder-token")  // then q1
	id := item["id"].(string)
	if item["encounter"].(map[string]any)["reference"] != "Encounter/q1" {
		t.Fatalf("expected q1 second, got %v", item["encounter"])
	}
	base := "/api/v1/work-items/" + id
	leading := map[string]any{"question": "Which type of pneumonia?", "options": []string{"Bacterial", "Viral"}}
	code, refused := apiJSON(t, m, "POST", base+"/queries", "e2e-coder-token", leading)
	if code != 422 {
		t.Fatalf("query without an 'other' option = %d, want 422", code)
	}
	// The reasons come back, one per rule broken (workitem.CheckQuery).
	var fields []any
	for _, d := range refused["error"].(map[string]any)["details"].([]any) {
		fields = append(fields, d.(map[string]any)["expression"].([]any)...)
	}
	if diff := cmp.Diff([]any{"options"}, fields); diff != "" {
		t.Errorf("reasons of the refusal: mismatch (-want +got):\n%s", diff)
	}
	q := map[string]any{"question": "Please clarify the type of pneumonia.", "indicators": []string{"CXR: RLL infiltrate", "WBC 14.2"},
		"options": []string{"Bacterial pneumonia", "Viral pneumonia", "Other / clinically undetermined"}}
	code, query := apiJSON(t, m, "POST", base+"/queries", "e2e-coder-token", q)
	if code != 201 || query["status"] != "open" {
		t.Fatalf("open query = %d %v", code, query)
	}
	_, item = apiCall(t, m, "GET", base, "e2e-coder-token")
	if item["status"] != "on_hold" || len(item["queries"].([]any)) != 1 {
		t.Fatalf("after query: %v %v", item["status"], item["queries"])
	}
	qid := query["id"].(string)
	code, item = apiJSON(t, m, "POST", base+"/queries/"+qid+"/answer", ehrTok, map[string]any{"answer": "Bacterial pneumonia, likely pneumococcal."})
	if code != 200 || item["status"] != "ready" || item["assignee"] != "" {
		t.Fatalf("answer = %d %v/%v", code, item["status"], item["assignee"])
	}
	// Answered items go back to the top of the queue.
	_, list := apiCall(t, m, "GET", "/api/v1/work-items?status=ready", "e2e-coder-token")
	if top := list["items"].([]any)[0].(map[string]any); top["id"] != id {
		t.Fatalf("answered item not at the top: %v", top["encounter"])
	}
	if code, _ := apiJSON(t, m, "POST", base+"/queries/"+qid+"/answer", ehrTok, map[string]any{"answer": "again"}); code != 404 {
		t.Errorf("answering twice = %d, want 404", code)
	}
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestBareQuestionQuery: CONTRACT.md §4's body {"question": "..."} puts the
// item on hold (the indicator rule is the workbench composer's, not the API's).
func TestBareQuestionQuery(t *testing.T) {
	m := startMain(t, pgtest.NewURL(t))
	putBillableEncounter(t, m, "bare1", "AMB", 60, "")
	code, item := apiCall(t, m, "POST", "/api/v1/work-items/next", "e2e-coder-token")
	if code != 200 {
		t.Fatalf("next = %d", code)
	}
	base := "/api/v1/work-items/" + item["id"].(string)
	if code, body := apiJSON(t, m, "POST", base+"/queries", "e2e-coder-token", map[string]any{"question": "Is the bronchitis acute or chronic?"}); code != 201 {
		t.Fatalf("bare question = %d %v, want 201", code, body)
	}
	if _, item = apiCall(t, m, "GET", base, "e2e-coder-token"); item["status"] != "on_hold" {
		t.Errorf("status after the query = %v, want on_hold", item["status"])
	}
}
