package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
	"github.com/codebridge/codebridge/config"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// putEncounter stores a finished Encounter of the given class, ended
// daysAgo days ago.
func putEncounter(t *testing.T, m *Main, id, class string, daysAgo int) {
	t.Helper()
	end := time.Now().UTC().AddDate(0, 0, -daysAgo).Format(time.RFC3339)
	body := fmt.Sprintf(`{"resourceType":"Encounter","id":%q,"status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":%q},"subject":{"reference":"Patient/p-%s"},"period":{"start":%q,"end":%q}}`,
		id, class, id, end, end)
	if r := send(t, m, "PUT", "/fhir/Encounter/"+id, []byte(body)); r.code != 201 {
		t.Fatalf("PUT Encounter/%s = %d %s", id, r.code, r.body)
	}
}

func apiCall(t testing.TB, m *Main, method, path, token string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+m.Addr+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

func TestWorklistOrderFiltersAndPages(t *testing.T) {
	m := startMain(t, pgtest.NewURL(t))
	putEncounter(t, m, "office", "AMB", 1)
	putEncounter(t, m, "inpatient", "IMP", 1)
	putEncounter(t, m, "ed", "EMER", 1)
	putEncounter(t, m, "old-office", "AMB", 20)
	code, body := apiCall(t, m, "GET", "/api/v1/work-items?sort=priority&limit=2", "e2e-coder-token")
	if code != 200 {
		t.Fatalf("list = %d %v", code, body)
	}
	var got []string
	for page := 0; page < 3; page++ {
		for _, it := range body["items"].([]any) {
			item := it.(map[string]any)
			got = append(got, item["encounter"].(string))
			for _, k := range []string{"id", "status", "patient", "class", "priority", "assignee", "version", "claim"} {
				if _, ok := item[k]; !ok {
					t.Errorf("item lacks %s", k)
				}
			}
		}
		cur, _ := body["nextCursor"].(string)
		if cur == "" {
			break
		}
		_, body = apiCall(t, m, "GET", "/api/v1/work-items?limit=2&cursor="+cur, "e2e-coder-token")
	}
	want := "Encounter/inpatient,Encounter/old-office,Encounter/ed,Encounter/office"
	if strings.Join(got, ",") != want {
		t.Fatalf("worklist order = %v, want %s (inpatient 310, 20-day-old office 300, ED 210, office 110)", got, want)
	}
	_, body = apiCall(t, m, "GET", "/api/v1/work-items?encounter=Encounter/ed", "e2e-coder-token")
	if items := body["items"].([]any); len(items) != 1 {
		t.Fatalf("encounter filter = %v", body)
	}
	for _, bad := range []string{"status=bogus", "limit=0", "cursor=zzz", "encounter=ed", "sort=age"} {
		if code, _ := apiCall(t, m, "GET", "/api/v1/work-items?"+bad, "e2e-coder-token"); code != 400 {
			t.Errorf("?%s = %d, want 400", bad, code)
		}
	}
	if code, _ := apiCall(t, m, "GET", "/api/v1/work-items", ehrTok); code != 403 {
		t.Errorf("ehr reading the worklist = %d, want 403", code)
	}
}

func TestWorkItemChartView(t *testing.T) {
	m := startMain(t, pgtest.NewURL(t))
	if r := send(t, m, "POST", "/fhir", sample(t)); r.code != 200 {
		t.Fatalf("sample = %d", r.code)
	}
	_, list := apiCall(t, m, "GET", "/api/v1/work-items", "e2e-coder-token")
	id := list["items"].([]any)[0].(map[string]any)["id"].(string)
	code, item := apiCall(t, m, "GET", "/api/v1/work-items/"+id, "e2e-coder-token")
	if code != 200 {
		t.Fatalf("get = %d", code)
	}
	for _, k := range []string{"encounter", "patientSummary", "conditions", "procedures", "documents", "suggestedCodes", "codes", "edits", "queries", "history"} {
		if _, ok := item[k]; !ok {
			t.Errorf("chart view lacks %s", k)
		}
	}
	sugg, _ := json.Marshal(item["suggestedCodes"])
	if !strings.Contains(string(sugg), `"code":"J20.9"`) || !strings.Contains(string(sugg), `"code":"99213"`) {
		t.Errorf("suggested codes = %s", sugg)
	}
	if code, _ := apiCall(t, m, "GET", "/api/v1/work-items/nope", "e2e-coder-token"); code != 404 {
		t.Errorf("missing item = %d", code)
	}
}

func coderTokens(n int) []config.Token {
	toks := append([]config.Token{}, e2eTokens...)
	for i := 0; i < n; i++ {
		toks = append(toks, config.Token{Name: fmt.Sprintf("coder%02d", i), Role: workitem.RoleCoder, Value: fmt.Sprintf("coder-token-%02d", i)})
	}
	return toks
}

func TestNextNeverLeasesTwice(t *testing.T) {
	m := startMain(t, pgtest.NewURL(t), func(c *config.Config) { c.Tokens = coderTokens(50) })
	for i := 0; i < 20; i++ {
		putEncounter(t, m, fmt.Sprintf("e%02d", i), "AMB", i)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	leased := map[string]string{}
	noContent := 0
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			code, body := apiCall(t, m, "POST", "/api/v1/work-items/next", fmt.Sprintf("coder-token-%02d", i))
			mu.Lock()
			defer mu.Unlock()
			switch code {
			case 200:
				id := body["id"].(string)
				if prev, dup := leased[id]; dup {
					t.Errorf("item %s leased to coder%02d and %s", id, i, prev)
				}
				leased[id] = fmt.Sprintf("coder%02d", i)
				if body["status"] != "in_progress" || body["assignee"] != fmt.Sprintf("coder%02d", i) {
					t.Errorf("leased item = %v/%v", body["status"], body["assignee"])
				}
			case 204:
				noContent++
			default:
				t.Errorf("next = %d %v", code, body)
			}
		}(i)
	}
	wg.Wait()
	if len(leased) != 20 || noContent != 30 {
		t.Fatalf("%d leases and %d × 204, want 20 and 30", len(leased), noContent)
	}
}

func TestLeaseCapAndExpiry(t *testing.T) {
	m := startMain(t, pgtest.NewURL(t), func(c *config.Config) {
		c.Tokens = coderTokens(2)
		c.MaxLeasesPerCoder = 2
		c.LeaseDuration = 300 * time.Millisecond
	})
	for i := 0; i < 3; i++ {
		putEncounter(t, m, fmt.Sprintf("e%d", i), "AMB", i)
	}
	for i := 0; i < 2; i++ {
		if code, _ := apiCall(t, m, "POST", "/api/v1/work-items/next", "coder-token-00"); code != 200 {
			t.Fatalf("lease %d = %d", i, code)
		}
	}
	if code, _ := apiCall(t, m, "POST", "/api/v1/work-items/next", "coder-token-00"); code != 204 {
		t.Fatalf("third lease over the cap = %d, want 204", code)
	}
	if code, _ := apiCall(t, m, "POST", "/api/v1/work-items/next", "e2e-ehr-token"); code != 403 {
		t.Fatalf("ehr leasing = %d, want 403", code)
	}
	time.Sleep(400 * time.Millisecond)
	// coder00's leases expired: coder01 takes two of the items (its cap),
	// and coder00 may lease again, taking the third.
	taken := map[string]bool{}
	for i, tok := range []string{"coder-token-01", "coder-token-01", "coder-token-00"} {
		code, body := apiCall(t, m, "POST", "/api/v1/work-items/next", tok)
		if code != 200 {
			t.Fatalf("after expiry, lease %d = %d", i, code)
		}
		taken[body["id"].(string)] = true
	}
	if len(taken) != 3 {
		t.Fatalf("%d distinct items leased after expiry, want 3", len(taken))
	}
}
