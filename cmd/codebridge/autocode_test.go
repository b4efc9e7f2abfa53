package main

import (
	"encoding/json"
	"fmt"
	"slices"
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
		// No Tabular List is loaded here: allow its coverage note, as a
		// site billing without it would (TestStraightThroughPolicyEndToEnd
		// runs with it).
		c.AutoCodeAllowWarnings = []string{"TELEHEALTH_MODIFIER", "NO_RELEASE_FOR_DOS:icd10cm-tabular"}
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
	// The sample telehealth chart lists two encounter diagnoses without
	// Encounter.diagnosis ranks: its first-listed diagnosis would depend on
	// ids, so it waits for a coder (issue #17; it used to be coded).
	unranked := postSample(t, m, sample(t))
	if got := reasonCodes(waitAutocode(t, m, unranked)); !slices.Equal(got, []string{"FIRST_LISTED_UNRANKED"}) {
		t.Fatalf("unranked sample: reasons %v, want FIRST_LISTED_UNRANKED", got)
	}
	// Ranked (its lines lack modifier 95, whose TELEHEALTH_MODIFIER warning
	// is allowlisted here), it is coded and completed by "auto", with a Claim.
	enc := postSample(t, m, rankedSample(t, sample(t)))
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

// postSample posts a copy of the sample Bundle as a new visit of a new
// patient (visit and MRN identifiers made unique) and answers the
// Encounter id.
func postSample(t *testing.T, m *Main, bundle []byte) string {
	t.Helper()
	postSampleN++
	bundle = []byte(strings.NewReplacer(`V-2026-0042`, fmt.Sprintf(`V-2026-0042-%d`, postSampleN),
		`MRN-100234`, fmt.Sprintf(`MRN-100234-%d`, postSampleN)).Replace(string(bundle)))
	r := send(t, m, "POST", "/fhir", bundle)
	var resp struct {
		Entry []struct{ Response struct{ Location string } }
	}
	if err := json.Unmarshal(r.body, &resp); err != nil || r.code != 200 || len(resp.Entry) < 5 {
		t.Fatalf("sample = %d %s", r.code, r.body)
	}
	enc, _, _ := strings.Cut(strings.TrimPrefix(resp.Entry[4].Response.Location, "Encounter/"), "/")
	return enc
}

var postSampleN int

// rankedSample is the sample Bundle with Encounter.diagnosis ranking its
// J20.9 Condition first and its I10 Condition second.
func rankedSample(t *testing.T, bundle []byte) []byte {
	t.Helper()
	var b map[string]any
	if err := json.Unmarshal(bundle, &b); err != nil {
		t.Fatal(err)
	}
	entries := b["entry"].([]any)
	enc := entries[4].(map[string]any)["resource"].(map[string]any)
	enc["diagnosis"] = []any{
		map[string]any{"condition": map[string]any{"reference": entries[5].(map[string]any)["fullUrl"]}, "rank": 1},
		map[string]any{"condition": map[string]any{"reference": entries[6].(map[string]any)["fullUrl"]}, "rank": 2},
	}
	out, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// reasonCodes lists the reason codes of a single-item view's autocode.
func reasonCodes(it map[string]any) []string {
	var out []string
	auto, _ := it["autocode"].(map[string]any)
	reasons, _ := auto["reasons"].([]any)
	for _, r := range reasons {
		code, _, _ := strings.Cut(r.(string), ":")
		out = append(out, code)
	}
	return out
}
