package main

import (
	"fmt"
	"sync"
	"testing"

	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
	"github.com/codebridge/codebridge/config"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// TestScriptedDay: 3 coders and an auditor work 50 encounters from ingest
// to completed, with one physician query, one QA change and one re-open
// after a late Condition; every encounter's status events arrive on Kafka
// in a valid order.
func TestScriptedDay(t *testing.T) {
	m := startMain(t, pgtest.NewURLWithBundledCodes(t), func(c *config.Config) {
		c.Tokens = append(coderTokens(3), auditorToken)
		c.QASampleRate = 0.5
	})
	classes := []string{"AMB", "AMB", "EMER", "AMB", "VR"}
	const n = 50
	for i := range n {
		putBillableEncounter(t, m, fmt.Sprintf("day%02d", i), classes[i%len(classes)], 60+i*7, "dr-day")
	}
	var (
		mu      sync.Mutex
		queried bool
		errs    []string
		wg      sync.WaitGroup
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		errs = append(errs, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	for c := range 3 {
		tok := fmt.Sprintf("coder-token-%02d", c)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				code, item := apiCall(t, m, "POST", "/api/v1/work-items/next", tok)
				if code == 204 {
					return
				}
				if code != 200 {
					fail("next = %d", code)
					return
				}
				base := "/api/v1/work-items/" + item["id"].(string)
				mu.Lock()
				ask := !queried
				queried = true
				mu.Unlock()
				if ask {
					q := map[string]any{"question": "Acute or chronic?", "indicators": []string{"cough for three weeks"},
						"options": []string{"Acute", "Chronic", "Other / clinically undetermined"}}
					code, query := apiJSON(t, m, "POST", base+"/queries", tok, q)
					if code != 201 {
						fail("query = %d", code)
						return
					}
					if code, _ := apiJSON(t, m, "POST", base+"/queries/"+query["id"].(string)+"/answer", ehrTok, map[string]any{"answer": "Acute."}); code != 200 {
						fail("answer = %d", code)
						return
					}
					continue
				}
				if code, body := apiJSON(t, m, "PUT", base+"/codes", tok, coderCodes); code != 200 {
					fail("PUT codes = %d %v", code, body)
					return
				}
				code, item = apiJSON(t, m, "POST", base+"/submit", tok, map[string]any{"acknowledgeWarnings": true})
				if code != 200 || (item["status"] != "completed" && item["status"] != "in_review") {
					fail("submit = %d %v %v", code, item["status"], item["edits"])
					return
				}
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("coders: %v", errs)
	}
	// The auditor changes the first reviewed item and accepts the rest.
	_, list := apiCall(t, m, "GET", "/api/v1/work-items?status=in_review&limit=500", auditorTok)
	reviews := list["items"].([]any)
	if len(reviews) == 0 {
		t.Fatal("nothing went to review at a QA rate of 0.5")
	}
	changed := map[string]any{"diagnoses": []any{map[string]any{"code": "J20.9"}, map[string]any{"code": "I10"}, map[string]any{"code": "E11.9"}},
		"lines": coderCodes["lines"]}
	for i, r := range reviews {
		id := r.(map[string]any)["id"].(string)
		if i == 0 {
			if code, body := apiJSON(t, m, "PUT", "/api/v1/work-items/"+id+"/codes", auditorTok, changed); code != 200 {
				t.Fatalf("auditor PUT = %d %v", code, body)
			}
		}
		submit(t, m, id, auditorTok, "completed")
	}
	extraReview := reopenAndRecode(t, m, "day00")
	_, list = apiCall(t, m, "GET", "/api/v1/work-items?limit=500", auditorTok)
	items := list["items"].([]any)
	if len(items) != n {
		t.Fatalf("%d items, want %d", len(items), n)
	}
	for _, it := range items {
		it := it.(map[string]any)
		if it["status"] != "completed" || it["claim"] == "" {
			t.Errorf("%v: %v claim %q", it["encounter"], it["status"], it["claim"])
		}
	}
	_, acc := apiCall(t, m, "GET", "/api/v1/reports/accuracy", auditorTok)
	reviewed, accurate := 0, 0
	for _, c := range acc["coders"].([]any) {
		c := c.(map[string]any)
		reviewed += int(c["reviewed"].(float64))
		accurate += int(c["accurate"].(float64))
	}
	if want := len(reviews) + extraReview; reviewed != want || accurate != want-1 {
		t.Errorf("accuracy: %d reviewed, %d accurate; want %d reviews with one change", reviewed, accurate, want)
	}
	_, prod := apiCall(t, m, "GET", "/api/v1/reports/productivity", auditorTok)
	coded := 0
	for _, c := range prod["coders"].([]any) {
		coded += int(c.(map[string]any)["items"].(float64))
	}
	if coded != n+1 { // every item once, the re-opened one twice
		t.Errorf("productivity counts %d coded items, want %d", coded, n+1)
	}
	if _, qr := apiCall(t, m, "GET", "/api/v1/reports/queries", auditorTok); qr["count"] != 1.0 || qr["answered"] != 1.0 {
		t.Errorf("queries = %v", qr)
	}

	// Status events: per encounter, a valid path ending completed.
	total := count(t, m, `SELECT count(*) FROM work_item_history`)
	msgs, evs := readEvents(t, m, total)
	byKey := map[string][]string{}
	prev := map[string]string{}
	for i, ev := range evs {
		k := string(msgs[i].Key)
		if last, ok := prev[k]; ok {
			if ev.Data.PreviousStatus != last || !workitem.CanMove(workitem.Status(last), workitem.Status(ev.Data.Status)) {
				t.Errorf("%s: %s after %s (previous %q)", k, ev.Data.Status, last, ev.Data.PreviousStatus)
			}
		}
		prev[k] = ev.Data.Status
		byKey[k] = append(byKey[k], ev.Data.Status)
	}
	if len(byKey) != n {
		t.Errorf("events for %d encounters, want %d", len(byKey), n)
	}
	for k, seq := range byKey {
		if seq[len(seq)-1] != "completed" {
			t.Errorf("%s ends %v", k, seq)
		}
	}
}

// reopenAndRecode sends a late Condition for a completed encounter, checks
// the item re-opens, and works it again to completion with a new Claim. It
// answers 1 when the re-coded item went through QA review, else 0.
func reopenAndRecode(t *testing.T, m *Main, enc string) (reviewed int) {
	t.Helper()
	_, list := apiCall(t, m, "GET", "/api/v1/work-items?encounter=Encounter/"+enc, auditorTok)
	before := list["items"].([]any)[0].(map[string]any)
	late := `{"resourceType":"Condition","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"R05.9"}]},` +
		`"subject":{"reference":"` + before["patient"].(string) + `"},"encounter":{"reference":"Encounter/` + enc + `"}}`
	if r := send(t, m, "POST", "/fhir/Condition", []byte(late)); r.code != 201 {
		t.Fatalf("late Condition = %d %s", r.code, r.body)
	}
	_, list = apiCall(t, m, "GET", "/api/v1/work-items?encounter=Encounter/"+enc, auditorTok)
	if st := list["items"].([]any)[0].(map[string]any)["status"]; st != "reopened" {
		t.Fatalf("after a late Condition the item is %v, want reopened", st)
	}
	code, item := apiCall(t, m, "POST", "/api/v1/work-items/next", "coder-token-00")
	if code != 200 || item["id"] != before["id"] {
		t.Fatalf("next after re-open = %d %v, want the re-opened item", code, item["id"])
	}
	base := "/api/v1/work-items/" + before["id"].(string)
	if code, body := apiJSON(t, m, "PUT", base+"/codes", "coder-token-00", coderCodes); code != 200 {
		t.Fatalf("re-code = %d %v", code, body)
	}
	code, item = apiJSON(t, m, "POST", base+"/submit", "coder-token-00", map[string]any{"acknowledgeWarnings": true})
	if code == 200 && item["status"] == "in_review" {
		reviewed = 1
		submit(t, m, before["id"].(string), auditorTok, "completed")
		_, item = apiCall(t, m, "GET", base, auditorTok)
	}
	if item["status"] != "completed" || item["claim"] == before["claim"] {
		t.Fatalf("re-coded item = %v claim %v (before %v)", item["status"], item["claim"], before["claim"])
	}
	return reviewed
}
