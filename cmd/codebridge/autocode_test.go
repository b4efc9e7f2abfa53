package main

import (
	"strings"
	"testing"
	"time"

	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
	"github.com/codebridge/codebridge/config"
	"github.com/codebridge/codebridge/mapping/autocode"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// waitStatus polls the item of an encounter until it reaches want.
func waitStatus(t *testing.T, m *Main, enc, want string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, list := apiCall(t, m, "GET", "/api/v1/work-items?encounter="+enc, "e2e-admin-token")
		items, _ := list["items"].([]any)
		if len(items) == 1 {
			it := items[0].(map[string]any)
			if it["status"] == want {
				return it
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s stayed %v, want %s", enc, it["status"], want)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestStraightThroughCoding(t *testing.T) {
	m := startMain(t, pgtest.NewURL(t), func(c *config.Config) {
		c.AutoCode = true
		c.QASampleRate = 0
		c.Tokens = append(c.Tokens, config.Token{Name: "bill", Role: workitem.RoleBiller, Value: billerTok})
	})
	// Without code sets in force the auto-coder must not code anything.
	putEncounter(t, m, "nocodes", "AMB", 1)
	cond := `{"resourceType":"Condition","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-category","code":"encounter-diagnosis"}]}],"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"J20.9"}]},"subject":{"reference":"Patient/p-nocodes"},"encounter":{"reference":"Encounter/nocodes"}}`
	send(t, m, "POST", "/fhir/Condition", []byte(cond))
	time.Sleep(3 * autocode.DefaultIdle)
	if _, list := apiCall(t, m, "GET", "/api/v1/work-items?encounter=Encounter/nocodes", "e2e-admin-token"); list["items"].([]any)[0].(map[string]any)["status"] != "ready" {
		t.Fatal("auto-coded without any code set in force")
	}
	if _, err := postgres.NewCodeStore(m.DB).LoadBundled(t.Context()); err != nil {
		t.Fatal(err)
	}
	// A clean telehealth chart is coded and completed by "auto", with a Claim.
	r := send(t, m, "POST", "/fhir", sample(t))
	if r.code != 200 {
		t.Fatalf("sample = %d", r.code)
	}
	var enc string
	if err := m.DB.QueryRow(`SELECT id FROM resources WHERE type = 'Encounter' AND id <> 'nocodes'`).Scan(&enc); err != nil {
		t.Fatal(err)
	}
	it := waitStatus(t, m, "Encounter/"+enc, "completed")
	if !strings.HasPrefix(it["claim"].(string), "Claim/") {
		t.Fatalf("auto-completed item has no claim: %v", it)
	}
	_, full := apiCall(t, m, "GET", "/api/v1/work-items/"+it["id"].(string), "e2e-admin-token")
	hist := jsonString(full["history"])
	if !strings.Contains(hist, `"actor":"auto"`) || !strings.Contains(jsonString(full["codes"]), `"J20.9"`) {
		t.Fatalf("history %s codes %s", hist, jsonString(full["codes"]))
	}
	// A chart with a header (non-billable) code stays for a coder, with the reason.
	putEncounter(t, m, "header", "AMB", 90) // inside FY2026, the bundled ICD-10-CM release
	send(t, m, "POST", "/fhir/Condition", []byte(strings.NewReplacer("J20.9", "J20", "nocodes", "header").Replace(cond)))
	time.Sleep(3 * autocode.DefaultIdle)
	var status, note string
	if err := m.DB.QueryRow(`SELECT status, autocode_note FROM work_items WHERE encounter_id = 'header'`).Scan(&status, &note); err != nil {
		t.Fatal(err)
	}
	if status != "ready" || !strings.Contains(note, "DX_HEADER") {
		t.Fatalf("header-code chart: status %s note %q", status, note)
	}
	if !strings.Contains(scrape(t, m), `codebridge_autocode_total{result="coded"}`) {
		t.Error("metrics lack the straight-through counter")
	}
}

func scrape(t *testing.T, m *Main) string {
	t.Helper()
	_, body := get(t, m, "/metrics", "")
	return body
}
