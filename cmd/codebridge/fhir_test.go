package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
	"github.com/codebridge/codebridge/fhir"
)

const ehrTok = "e2e-ehr-token"

type fhirResp struct {
	code   int
	header http.Header
	body   []byte
}

func (r fhirResp) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not JSON: %v: %s", err, r.body)
	}
	return m
}

func send(t testing.TB, m *Main, method, path string, body []byte, headers ...string) fhirResp {
	t.Helper()
	return sendAs(t, m, method, path, body, ehrTok, headers...)
}

func sendAs(t testing.TB, m *Main, method, path string, body []byte, token string, headers ...string) fhirResp {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+m.Addr+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/fhir+json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return fhirResp{resp.StatusCode, resp.Header, b}
}

func count(t *testing.T, m *Main, query string, args ...any) int {
	t.Helper()
	var n int
	if err := m.DB.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

const patientJSON = `{"resourceType":"Patient","identifier":[{"system":"urn:mrn","value":"M1"}],"name":[{"family":"Doe","given":["Jo"]}],"gender":"male","birthDate":"1980-02-03"}`

func TestFHIRCreateReadUpdate(t *testing.T) {
	m := startMain(t, pgtest.NewURL(t))
	r := send(t, m, "POST", "/fhir/Patient", []byte(patientJSON))
	if r.code != 201 || r.header.Get("Location") == "" || r.header.Get("ETag") != `W/"1"` || r.header.Get("Last-Modified") == "" {
		t.Fatalf("create = %d %v %s", r.code, r.header, r.body)
	}
	p := r.json(t)
	id := p["id"].(string)
	meta := p["meta"].(map[string]any)
	if meta["versionId"] != "1" || meta["lastUpdated"] == nil {
		t.Fatalf("meta = %v", meta)
	}
	if got := send(t, m, "GET", "/fhir/Patient/"+id, nil); got.code != 200 || !bytes.Equal(got.body, r.body) {
		t.Fatalf("read = %d %s", got.code, got.body)
	}
	upd := strings.Replace(patientJSON, `{"resourceType":"Patient",`, `{"resourceType":"Patient","id":"`+id+`",`, 1)
	// Identical re-send: no new version.
	if got := send(t, m, "PUT", "/fhir/Patient/"+id, []byte(upd)); got.code != 200 || got.header.Get("ETag") != `W/"1"` {
		t.Fatalf("identical PUT = %d %s %s", got.code, got.header.Get("ETag"), got.body)
	}
	changed := strings.Replace(upd, `"Doe"`, `"Doe-Smith"`, 1)
	if got := send(t, m, "PUT", "/fhir/Patient/"+id, []byte(changed), "If-Match", `W/"1"`); got.code != 200 || got.header.Get("ETag") != `W/"2"` {
		t.Fatalf("update = %d %s", got.code, got.body)
	}
	if got := send(t, m, "PUT", "/fhir/Patient/"+id, []byte(upd), "If-Match", `W/"1"`); got.code != 412 {
		t.Fatalf("stale If-Match = %d, want 412", got.code)
	}
	if got := send(t, m, "GET", "/fhir/Patient/"+id+"/_history/1", nil); got.code != 200 || !strings.Contains(string(got.body), `"Doe"`) {
		t.Fatalf("vread 1 = %d %s", got.code, got.body)
	}
	if got := send(t, m, "GET", "/fhir/Patient/"+id+"/_history/9", nil); got.code != 404 {
		t.Fatalf("vread 9 = %d", got.code)
	}
	// update-as-create with a client id
	pc := strings.Replace(patientJSON, `{"resourceType":"Patient",`, `{"resourceType":"Patient","id":"client-1",`, 1)
	if got := send(t, m, "PUT", "/fhir/Patient/client-1", []byte(pc)); got.code != 201 {
		t.Fatalf("PUT create = %d %s", got.code, got.body)
	}
}

func TestFHIRBadInput(t *testing.T) {
	m := startMain(t, pgtest.NewURL(t))
	tests := []struct {
		name, method, path, body string
		headers                  []string
		want                     int
		expr                     string
	}{
		{"malformed", "POST", "/fhir/Patient", `{"resourceType":`, nil, 400, ""},
		{"unknown element", "POST", "/fhir/Patient", `{"resourceType":"Patient","foo":1}`, nil, 422, "Patient"},
		{"bad date", "POST", "/fhir/Patient", `{"resourceType":"Patient","birthDate":"1980-13-45"}`, nil, 422, "Patient.birthDate"},
		{"wrong type", "POST", "/fhir/Encounter", patientJSON, nil, 400, ""},
		{"id mismatch", "PUT", "/fhir/Patient/abc", `{"resourceType":"Patient","id":"xyz"}`, nil, 400, "Patient.id"},
		{"media type", "POST", "/fhir/Patient", patientJSON, []string{"Content-Type", "text/plain"}, 415, ""},
		{"unsupported type", "POST", "/fhir/Observation", `{"resourceType":"Observation"}`, nil, 404, ""},
		{"bad if-none-exist", "POST", "/fhir/Patient", patientJSON, []string{"If-None-Exist", "name=Doe"}, 400, ""},
		{"not found", "GET", "/fhir/Patient/nope", "", nil, 404, ""},
	}
	for _, tt := range tests {
		r := send(t, m, tt.method, tt.path, []byte(tt.body), tt.headers...)
		if r.code != tt.want {
			t.Errorf("%s: status %d, want %d (%s)", tt.name, r.code, tt.want, r.body)
			continue
		}
		oo := r.json(t)
		if oo["resourceType"] != "OperationOutcome" {
			t.Errorf("%s: body is not an OperationOutcome: %s", tt.name, r.body)
		}
		if tt.expr != "" && !strings.Contains(string(r.body), `"`+tt.expr) {
			t.Errorf("%s: OperationOutcome lacks expression %s: %s", tt.name, tt.expr, r.body)
		}
	}
	if n := count(t, m, `SELECT count(*) FROM resources`); n != 0 {
		t.Fatalf("rejected requests stored %d resources", n)
	}
}

func TestFHIRConditionalCreateConcurrent(t *testing.T) {
	m := startMain(t, pgtest.NewURL(t))
	const n = 16
	var wg sync.WaitGroup
	codes := make([]int, n)
	ids := make([]string, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := send(t, m, "POST", "/fhir/Patient", []byte(patientJSON), "If-None-Exist", "identifier=urn:mrn|M1")
			codes[i] = r.code
			var p struct{ ID string }
			_ = json.Unmarshal(r.body, &p)
			ids[i] = p.ID
		}(i)
	}
	wg.Wait()
	created := 0
	for i := range codes {
		if codes[i] == 201 {
			created++
		} else if codes[i] != 200 {
			t.Errorf("request %d = %d", i, codes[i])
		}
		if ids[i] != ids[0] {
			t.Errorf("request %d answered id %s, want %s", i, ids[i], ids[0])
		}
	}
	if created != 1 {
		t.Errorf("%d creates, want exactly 1", created)
	}
	if got := count(t, m, `SELECT count(*) FROM resources WHERE type = 'Patient'`); got != 1 {
		t.Fatalf("%d Patients stored, want 1", got)
	}
}

func sample(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("samples/telehealth-visit.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFHIRTransactionBundleMakesWorkItem(t *testing.T) {
	m := startMain(t, pgtest.NewURL(t))
	r := send(t, m, "POST", "/fhir", sample(t))
	if r.code != 200 {
		t.Fatalf("transaction = %d %s", r.code, r.body)
	}
	var resp struct {
		Type  string
		Entry []struct {
			Response struct {
				Status, Location string
				Outcome          map[string]any
			}
		}
	}
	if err := json.Unmarshal(r.body, &resp); err != nil || resp.Type != "transaction-response" || len(resp.Entry) != 10 {
		t.Fatalf("response = %s", r.body)
	}
	for i := 0; i < 9; i++ {
		if resp.Entry[i].Response.Status != "201 Created" {
			t.Errorf("entry %d = %+v", i, resp.Entry[i].Response)
		}
	}
	if resp.Entry[9].Response.Status != "200 OK" || resp.Entry[9].Response.Outcome == nil {
		t.Errorf("Observation entry should be skipped with an outcome: %+v", resp.Entry[9].Response)
	}
	encLoc := resp.Entry[4].Response.Location
	encID := strings.Split(encLoc, "/")[1]
	// The Condition's urn:uuid reference was rewritten to the stored Encounter id.
	cond := send(t, m, "GET", "/fhir/"+strings.Join(strings.Split(resp.Entry[5].Response.Location, "/")[:2], "/"), nil)
	if !strings.Contains(string(cond.body), `"Encounter/`+encID+`"`) {
		t.Fatalf("Condition references not rewritten: %s", cond.body)
	}
	var status, class string
	var chart []byte
	if err := m.DB.QueryRow(`SELECT status, class, chart FROM work_items WHERE encounter_id = $1`, encID).Scan(&status, &class, &chart); err != nil {
		t.Fatalf("no work item: %v", err)
	}
	if status != "ready" || class != "VR" {
		t.Fatalf("work item status=%s class=%s", status, class)
	}
	for _, want := range []string{`"J20.9"`, `"I10"`, `"99213"`, `"Ana Rivera"`, "productive cough"} {
		if !bytes.Contains(chart, []byte(want)) {
			t.Errorf("chart lacks %s: %s", want, chart)
		}
	}
	// Re-sending the same bundle: no new versions, conditional Patient matched.
	r2 := send(t, m, "POST", "/fhir", sample(t))
	if r2.code != 200 || !strings.Contains(string(r2.body), `"200 OK"`) {
		t.Fatalf("re-send = %d %s", r2.code, r2.body)
	}
	if n := count(t, m, `SELECT count(*) FROM resources WHERE type = 'Patient'`); n != 1 {
		t.Errorf("%d patients after re-send, want 1", n)
	}
	// The re-sent Encounter (a new POST) refers to the Patient that
	// If-None-Exist matched, not to an id that was never stored.
	if n := count(t, m, `SELECT count(*) FROM resources e JOIN resources p ON p.type = 'Patient' AND p.id = e.patient_id WHERE e.type = 'Encounter'`); n != 2 {
		t.Errorf("%d Encounters point at the stored Patient, want 2", n)
	}
}

func TestFHIRTransactionRollsBack(t *testing.T) {
	m := startMain(t, pgtest.NewURL(t))
	bad := strings.Replace(string(sample(t)), `"reference": "urn:uuid:6f1c2a10-0000-4000-8000-000000000003"`, `"reference": "urn:uuid:00000000-dead-4000-8000-000000000000"`, 1)
	r := send(t, m, "POST", "/fhir", []byte(bad))
	if r.code != 422 || !strings.Contains(string(r.body), "Bundle.entry[") {
		t.Fatalf("dangling reference = %d %s", r.code, r.body)
	}
	// An entry that fails in the database (stale If-Match) rolls back the whole transaction.
	tx := `{"resourceType":"Bundle","type":"transaction","entry":[
	 {"resource":` + patientJSON + `,"request":{"method":"POST","url":"Patient"}},
	 {"resource":{"resourceType":"Patient","id":"p9"},"request":{"method":"PUT","url":"Patient/p9","ifMatch":"W/\"4\""}}]}`
	if r := send(t, m, "POST", "/fhir", []byte(tx)); r.code != 412 {
		t.Fatalf("stale If-Match in transaction = %d %s", r.code, r.body)
	}
	if n := count(t, m, `SELECT count(*) FROM resources`); n != 0 {
		t.Fatalf("rolled-back transactions left %d resources", n)
	}
	// The same as a batch: the good entry lands, the bad one reports 412.
	batch := strings.Replace(tx, `"transaction"`, `"batch"`, 1)
	r = send(t, m, "POST", "/fhir", []byte(batch))
	if r.code != 200 || !strings.Contains(string(r.body), `"201 Created"`) || !strings.Contains(string(r.body), `"412 Precondition Failed"`) {
		t.Fatalf("batch = %d %s", r.code, r.body)
	}
}

func TestFHIROutOfOrderAndReopen(t *testing.T) {
	m := startMain(t, pgtest.NewURL(t))
	cond := `{"resourceType":"Condition","id":"c1","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"E11.9"}]},"subject":{"reference":"Patient/p1"},"encounter":{"reference":"Encounter/e1"}}`
	if r := send(t, m, "PUT", "/fhir/Condition/c1", []byte(cond)); r.code != 201 {
		t.Fatalf("condition first = %d %s", r.code, r.body)
	}
	if n := count(t, m, `SELECT count(*) FROM work_items`); n != 0 {
		t.Fatalf("work item before its Encounter: %d", n)
	}
	enc := `{"resourceType":"Encounter","id":"e1","status":"in-progress","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},"subject":{"reference":"Patient/p1"},"period":{"start":"2026-02-01T09:00:00Z"}}`
	if r := send(t, m, "PUT", "/fhir/Encounter/e1", []byte(enc)); r.code != 201 {
		t.Fatalf("encounter = %d %s", r.code, r.body)
	}
	var status string
	var chart []byte
	_ = m.DB.QueryRow(`SELECT status, chart FROM work_items WHERE encounter_id = 'e1'`).Scan(&status, &chart)
	if status != "pending" || !bytes.Contains(chart, []byte("E11.9")) {
		t.Fatalf("after Encounter: status %s, chart %s", status, chart)
	}
	finished := strings.Replace(enc, `"in-progress"`, `"finished"`, 1)
	send(t, m, "PUT", "/fhir/Encounter/e1", []byte(finished))
	_ = m.DB.QueryRow(`SELECT status FROM work_items WHERE encounter_id = 'e1'`).Scan(&status)
	if status != "ready" {
		t.Fatalf("after finish: %s", status)
	}
	// Simulate coding having finished, then a late Condition re-opens the item.
	if _, err := m.DB.Exec(`UPDATE work_items SET status = 'completed' WHERE encounter_id = 'e1'`); err != nil {
		t.Fatal(err)
	}
	late := strings.NewReplacer(`"c1"`, `"c2"`, "E11.9", "I10").Replace(cond)
	send(t, m, "PUT", "/fhir/Condition/c2", []byte(late))
	var reason string
	_ = m.DB.QueryRow(`SELECT status, reason FROM work_items WHERE encounter_id = 'e1'`).Scan(&status, &reason)
	if status != "reopened" || !strings.Contains(reason, "Condition/c2") {
		t.Fatalf("late condition: status %s reason %q", status, reason)
	}
	// Deleting the Encounter cancels the item.
	if r := send(t, m, "DELETE", "/fhir/Encounter/e1", nil); r.code != 204 {
		t.Fatalf("delete = %d %s", r.code, r.body)
	}
	_ = m.DB.QueryRow(`SELECT status FROM work_items WHERE encounter_id = 'e1'`).Scan(&status)
	if status != "cancelled" {
		t.Fatalf("after delete: %s", status)
	}
	if n := count(t, m, `SELECT count(*) FROM work_item_history h JOIN work_items w ON w.id = h.work_item_id WHERE w.encounter_id = 'e1'`); n != 4 {
		t.Errorf("history rows = %d, want 4 (pending, ready, reopened, cancelled)", n)
	}
}

func TestLoadSamples(t *testing.T) {
	m := startMain(t, pgtest.NewURL(t))
	n, err := m.loadSamples(t.Context())
	if err != nil || n < 1 {
		t.Fatalf("loadSamples = %d, %v", n, err)
	}
	if got := count(t, m, `SELECT count(*) FROM work_items WHERE status = 'ready'`); got != n {
		t.Fatalf("%d ready work items after loading %d sample bundles", got, n)
	}
	// The sample visits took place last week (issue #18): coded against
	// today's code sets, not a past year's.
	weekAgo := time.Now().UTC().AddDate(0, 0, -7)
	if got := count(t, m, `SELECT count(*) FROM work_items WHERE (chart->'chart'->'encounter'->>'start')::timestamptz BETWEEN $1 AND now()`, weekAgo); got != n {
		t.Fatalf("%d of %d sample visits dated in the last week", got, n)
	}
	// A second start does not load them again.
	if n2, err := m.loadSamples(t.Context()); err != nil || n2 != 0 {
		t.Fatalf("second loadSamples = %d, %v", n2, err)
	}
}

func TestCapabilityStatement(t *testing.T) {
	m := startMain(t, pgtest.NewURL(t))
	if r := sendAs(t, m, "GET", "/fhir/metadata", nil, ""); r.code != 401 {
		t.Fatalf("metadata without a token = %d, want 401 (CONTRACT §2)", r.code)
	}
	r := send(t, m, "GET", "/fhir/metadata", nil)
	if r.code != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "application/fhir+json") {
		t.Fatalf("metadata = %d %s", r.code, r.header.Get("Content-Type"))
	}
	cs := r.json(t)
	if cs["resourceType"] != "CapabilityStatement" || cs["fhirVersion"] != "4.0.1" {
		t.Fatalf("metadata = %s", r.body)
	}
	parser, err := fhir.NewParser()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parser.Parse(r.body); err != nil {
		t.Fatalf("CapabilityStatement is not valid R4: %v", err)
	}
	for _, typ := range []string{"Encounter", "Condition", "Procedure", "Patient", "Coverage", "Practitioner", "Organization", "DocumentReference"} {
		if !strings.Contains(string(r.body), `"type":"`+typ+`"`) {
			t.Errorf("CapabilityStatement lacks %s", typ)
		}
	}
}
