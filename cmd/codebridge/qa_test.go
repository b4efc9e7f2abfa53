package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
	"github.com/codebridge/codebridge/config"
	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping/workitem"
)

const auditorTok = "e2e-auditor-token"

var auditorToken = config.Token{Name: "audrey", Role: workitem.RoleAuditor, Value: auditorTok}

// putBillableEncounter stores a finished Encounter of class, daysAgo days
// ago, billed by Organization/clinic and, when practitioner is not "",
// attended by that Practitioner (stored too).
func putBillableEncounter(t *testing.T, m *Main, id, class string, daysAgo int, practitioner string) {
	t.Helper()
	participant := ""
	if practitioner != "" {
		pr := fmt.Sprintf(`{"resourceType":"Practitioner","id":%q,"name":[{"family":"House","given":["Greg"]}]}`, practitioner)
		if r := send(t, m, "PUT", "/fhir/Practitioner/"+practitioner, []byte(pr)); r.code != 201 && r.code != 200 {
			t.Fatalf("PUT Practitioner = %d %s", r.code, r.body)
		}
		participant = fmt.Sprintf(`,"participant":[{"type":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"ATND"}]}],"individual":{"reference":"Practitioner/%s"}}]`, practitioner)
	}
	at := time.Now().UTC().AddDate(0, 0, -daysAgo).Format(time.RFC3339)
	enc := fmt.Sprintf(`{"resourceType":"Encounter","id":%q,"status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":%q},
		"subject":{"reference":"Patient/p-%s"},"period":{"start":%q,"end":%q},"serviceProvider":{"reference":"Organization/clinic"}%s}`,
		id, class, id, at, at, participant)
	if r := send(t, m, "PUT", "/fhir/Encounter/"+id, []byte(enc)); r.code != 201 {
		t.Fatalf("PUT Encounter/%s = %d %s", id, r.code, r.body)
	}
}

var coderCodes = map[string]any{"diagnoses": []any{map[string]any{"code": "J20.9"}, map[string]any{"code": "I10"}},
	"lines": []any{map[string]any{"code": "99213", "units": 1, "diagnoses": []int{1, 2}}}}

func codeNext(t *testing.T, m *Main, token string) (id, enc string) {
	t.Helper()
	code, item := apiCall(t, m, "POST", "/api/v1/work-items/next", token)
	if code != 200 {
		t.Fatalf("next = %d", code)
	}
	id = item["id"].(string)
	if code, body := apiJSON(t, m, "PUT", "/api/v1/work-items/"+id+"/codes", token, coderCodes); code != 200 {
		t.Fatalf("PUT codes = %d %v", code, body)
	}
	return id, item["encounter"].(map[string]any)["reference"].(string)
}

func submit(t *testing.T, m *Main, id, token, want string) map[string]any {
	t.Helper()
	code, item := apiJSON(t, m, "POST", "/api/v1/work-items/"+id+"/submit", token, map[string]any{"acknowledgeWarnings": true})
	if code != 200 || item["status"] != want {
		t.Fatalf("submit by %s = %d %v (want %s) edits %v", token, code, item["status"], want, item["edits"])
	}
	return item
}

func TestQAAccuracyQueriesAndReports(t *testing.T) {
	m := startMain(t, pgtest.NewURLWithBundledCodes(t), func(c *config.Config) {
		c.Tokens = append(coderTokens(0), auditorToken)
		c.QASampleRate = 1
	})
	putBillableEncounter(t, m, "qa1", "AMB", 100, "")
	putBillableEncounter(t, m, "qa2", "AMB", 100, "")
	putBillableEncounter(t, m, "qa3", "AMB", 90, "dr1")

	// The coder codes two items; with a QA rate of 1 both go to review.
	var reviewed []string
	for range 2 {
		id, enc := codeNext(t, m, "e2e-coder-token")
		if enc == "Encounter/qa3" {
			t.Fatalf("qa3 (newest) leased before the older items")
		}
		submit(t, m, id, "e2e-coder-token", "in_review")
		reviewed = append(reviewed, id)
	}
	// Coders cannot review; the auditor changes the first and accepts the second.
	changed := map[string]any{"diagnoses": []any{map[string]any{"code": "I10"}, map[string]any{"code": "J20.9"}, map[string]any{"code": "E11.9"}},
		"lines": []any{map[string]any{"code": "99213", "units": 1, "diagnoses": []int{2}}}}
	if code, _ := apiJSON(t, m, "PUT", "/api/v1/work-items/"+reviewed[0]+"/codes", "e2e-coder-token", changed); code != 403 {
		t.Errorf("coder PUT on in_review = %d, want 403", code)
	}
	if code, body := apiJSON(t, m, "PUT", "/api/v1/work-items/"+reviewed[0]+"/codes", auditorTok, changed); code != 200 {
		t.Fatalf("auditor PUT = %d %v", code, body)
	}
	if it := submit(t, m, reviewed[0], auditorTok, "completed"); it["claim"] == "" {
		t.Errorf("reviewed item has no Claim")
	}
	submit(t, m, reviewed[1], auditorTok, "completed")

	r0, err := m.Store.QAReviewOf(t.Context(), reviewed[0])
	if err != nil {
		t.Fatal(err)
	}
	if r0.Accurate || r0.Coder != "alice" || r0.Auditor != "audrey" || r0.DiagnosesAdded != 1 || r0.DiagnosesRemoved != 0 ||
		!r0.Resequenced || r0.LinesChanged != 1 || r0.LinesAdded != 0 || r0.LinesRemoved != 0 {
		t.Errorf("changed review = %+v", r0)
	}
	if r1, err := m.Store.QAReviewOf(t.Context(), reviewed[1]); err != nil || !r1.Accurate {
		t.Errorf("accepted review = %+v, %v", r1, err)
	}

	// A physician query is a FHIR Communication to the attending.
	id, enc := codeNext(t, m, "e2e-coder-token")
	if enc != "Encounter/qa3" {
		t.Fatalf("third lease = %s", enc)
	}
	q := map[string]any{"question": "Please clarify the type of bronchitis.", "indicators": []string{"cough 3 weeks"},
		"options": []string{"Acute bronchitis", "Chronic bronchitis", "Other / clinically undetermined"}}
	code, query := apiJSON(t, m, "POST", "/api/v1/work-items/"+id+"/queries", "e2e-coder-token", q)
	if code != 201 {
		t.Fatalf("query = %d %v", code, query)
	}
	qid := query["id"].(string)
	parser, err := fhir.NewParser()
	if err != nil {
		t.Fatal(err)
	}
	readComm := func(wantVersion string) map[string]any {
		t.Helper()
		r := sendAs(t, m, "GET", "/fhir/Communication/"+qid, nil, ehrTok)
		if r.code != 200 {
			t.Fatalf("GET Communication = %d %s", r.code, r.body)
		}
		if _, err := parser.Parse(r.body); err != nil {
			t.Fatalf("Communication is not valid R4: %v\n%s", err, r.body)
		}
		c := r.json(t)
		if v := c["meta"].(map[string]any)["versionId"]; v != wantVersion {
			t.Errorf("versionId = %v, want %s", v, wantVersion)
		}
		return c
	}
	c := readComm("1")
	body := jsonString(c)
	for _, want := range []string{`"status":"in-progress"`, `"Practitioner/dr1"`, `"Encounter/qa3"`, `"Patient/p-qa3"`, `"notification"`,
		`cough 3 weeks`, `clinically undetermined`, `"value":"` + qid + `"`} {
		if !strings.Contains(body, want) {
			t.Errorf("Communication lacks %s: %s", want, body)
		}
	}
	if code, _ := apiCall(t, m, "GET", "/fhir/Communication/"+qid, "coder-token-none"); code != 401 {
		t.Errorf("unauthenticated read = %d", code)
	}
	code, _ = apiJSON(t, m, "POST", "/api/v1/work-items/"+id+"/queries/"+qid+"/answer", ehrTok, map[string]any{"answer": "Acute bronchitis."})
	if code != 200 {
		t.Fatalf("answer = %d", code)
	}
	c = readComm("2")
	if c["status"] != "completed" || len(c["payload"].([]any)) != 2 || !strings.Contains(jsonString(c["payload"]), "Acute bronchitis.") {
		t.Errorf("answered Communication = %s", jsonString(c))
	}
	if r := sendAs(t, m, "GET", "/fhir/Communication/"+qid+"/_history/1", nil, auditorTok); r.code != 200 || !strings.Contains(string(r.body), "in-progress") {
		t.Errorf("vread v1 = %d", r.code)
	}

	// Worklist by service date: qa3 was 90 days ago, the others 100.
	day := func(n int) string { return time.Now().UTC().AddDate(0, 0, -n).Format(time.DateOnly) }
	_, list := apiCall(t, m, "GET", "/api/v1/work-items?from="+day(95)+"&to="+day(0), "e2e-coder-token")
	if items := list["items"].([]any); len(items) != 1 || items[0].(map[string]any)["encounter"] != "Encounter/qa3" {
		t.Errorf("from filter = %v", list["items"])
	}
	_, list = apiCall(t, m, "GET", "/api/v1/work-items?to="+day(100), "e2e-coder-token")
	if items := list["items"].([]any); len(items) != 2 {
		t.Errorf("to filter = %d items", len(items))
	}
	if code, body := apiCall(t, m, "GET", "/api/v1/work-items?from=yesterday", "e2e-coder-token"); code != 400 || !strings.Contains(jsonString(body), "from") {
		t.Errorf("bad from = %d %v", code, body)
	}

	// Reports.
	if code, _ := apiCall(t, m, "GET", "/api/v1/reports/backlog", "e2e-coder-token"); code != 403 {
		t.Errorf("coder report = %d, want 403", code)
	}
	_, backlog := apiCall(t, m, "GET", "/api/v1/reports/backlog", auditorTok)
	bs := backlog["byStatus"].(map[string]any)
	if bs["completed"] != 2.0 || bs["ready"] != 1.0 || backlog["open"] != 1.0 || backlog["dnfb"] != 1.0 {
		t.Errorf("backlog = %v", backlog)
	}
	_, acc := apiCall(t, m, "GET", "/api/v1/reports/accuracy", auditorTok)
	if got := jsonString(acc); !strings.Contains(got, `"coder":"alice"`) || !strings.Contains(got, `"reviewed":2`) ||
		!strings.Contains(got, `"accurate":1`) || !strings.Contains(got, `"accuracyRate":0.5`) || !strings.Contains(got, `"resequenced":1`) {
		t.Errorf("accuracy = %s", got)
	}
	_, qr := apiCall(t, m, "GET", "/api/v1/reports/queries", auditorTok)
	if qr["count"] != 1.0 || qr["open"] != 0.0 || qr["answered"] != 1.0 || qr["medianTurnaroundHours"] == nil || qr["p90TurnaroundHours"] == nil {
		t.Errorf("queries = %v", qr)
	}
	_, st := apiCall(t, m, "GET", "/api/v1/reports/straight-through", auditorTok)
	if st["completed"] != 2.0 || st["autoCoded"] != 0.0 || st["coderCoded"] != 2.0 || st["rate"] != 0.0 {
		t.Errorf("straight-through = %v", st)
	}
	_, pr := apiCall(t, m, "GET", "/api/v1/reports/productivity?from="+day(1)+"&to="+day(0), auditorTok)
	if got := jsonString(pr); !strings.Contains(got, `"coder":"alice","days":[{"date":"`+day(0)+`","items":2,"lines":2}],"items":2`) {
		t.Errorf("productivity = %s", got)
	}
	for _, bad := range []string{"productivity?from=2026-13-01", "productivity?to=x", "accuracy?from=1/2/2026", "queries?to=2026-02-30"} {
		param := strings.SplitN(strings.SplitN(bad, "?", 2)[1], "=", 2)[0]
		if code, body := apiCall(t, m, "GET", "/api/v1/reports/"+bad, auditorTok); code != 400 || !strings.Contains(jsonString(body), param) {
			t.Errorf("%s = %d %v", bad, code, body)
		}
	}
}
