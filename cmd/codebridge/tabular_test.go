package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
	"github.com/codebridge/codebridge/config"
)

// tabularFixture is the hand-made Tabular List in the official schema.
var tabularFixture = filepath.Join("..", "..", "testdata", "codesets", "icd10cm_tabular_fixture.xml")

// fiscalYear is the federal fiscal year of t: FY2027 begins 2026-10-01.
func fiscalYear(t time.Time) int {
	if t.Month() >= time.October {
		return t.Year() + 1
	}
	return t.Year()
}

// TestCodesLoadTabular loads the Tabular List with `codes load --system
// icd10cm-tabular` and refuses a file that is not one, changing nothing.
func TestCodesLoadTabular(t *testing.T) {
	dbURL := pgtest.NewURL(t)
	out, _, err := runCodes(t, dbURL, "load", "--system", "icd10cm-tabular", "--version", "2027", tabularFixture)
	if err != nil || !strings.Contains(out, "loaded icd10cm-tabular FY2027 (2026-10-01..2027-09-30): 122 records from icd10cm_tabular_fixture.xml") {
		t.Fatalf("load: %q, %v", out, err)
	}
	order := filepath.Join("..", "..", "testdata", "codesets", "icd10cm_order_2025_extract.txt")
	out, _, err = runCodes(t, dbURL, "load", "--system", "icd10cm-tabular", "--version", "2028", order)
	if err == nil || !strings.Contains(err.Error(), "icd10cm_order_2025_extract.txt not loaded as icd10cm-tabular FY2028; nothing changed") ||
		!strings.Contains(err.Error(), "no XML element") {
		t.Errorf("order file as the Tabular List: %q, %v", out, err)
	}
	out, _, err = runCodes(t, dbURL, "list")
	if err != nil || !strings.Contains(out, "icd10cm-tabular  FY2027") || strings.Contains(out, "FY2028") {
		t.Errorf("list: %q, %v", out, err)
	}
}

// TestTabularExcludes1RefusedAtSubmit codes a visit through the API with
// the Tabular List fixture loaded (for the visit's fiscal year) by the
// command line: an Excludes1 pair (E11.9 with E10.9) is an error edit
// naming the note, and submit refuses it even with warnings acknowledged;
// the chart recoded without the pair is accepted.
func TestTabularExcludes1RefusedAtSubmit(t *testing.T) {
	dbURL := pgtest.NewURL(t)
	m := startMain(t, dbURL, func(c *config.Config) { c.QASampleRate = 0 })
	loadWorkbenchCodes(t, m)
	const daysAgo = 100
	fy := fmt.Sprint(fiscalYear(time.Now().UTC().AddDate(0, 0, -daysAgo)))
	if out, _, err := runCodes(t, dbURL, "load", "--system", "icd10cm-tabular", "--version", fy, tabularFixture); err != nil {
		t.Fatalf("load the Tabular List: %q, %v", out, err)
	}
	putBillableEncounter(t, m, "tab1", "AMB", daysAgo, "")
	code, item := apiCall(t, m, "POST", "/api/v1/work-items/next", "e2e-coder-token")
	if code != 200 {
		t.Fatalf("next = %d", code)
	}
	base := "/api/v1/work-items/" + item["id"].(string)
	pair := map[string]any{"diagnoses": []any{map[string]any{"code": "E11.9"}, map[string]any{"code": "E10.9"}},
		"lines": []any{map[string]any{"code": "99213", "units": 1, "diagnoses": []int{1, 2}}}}
	code, item = apiJSON(t, m, "PUT", base+"/codes", "e2e-coder-token", pair)
	if code != 200 {
		t.Fatalf("PUT codes = %d %v", code, item)
	}
	var found map[string]any
	for _, e := range item["edits"].([]any) {
		if e := e.(map[string]any); e["code"] == "TABULAR_EXCLUDES1" {
			found = e
		}
	}
	if found == nil || found["severity"] != "error" || found["target"] != "diagnoses[1]" ||
		found["rule"] != "ICD-10-CM Tabular List FY"+fy+", Excludes1 note at E11" ||
		found["ruleText"] != "Excludes1: type 1 diabetes mellitus (E10.-)" {
		t.Fatalf("edits %v: want TABULAR_EXCLUDES1 on diagnoses[1] citing the Excludes1 note at E11", item["edits"])
	}
	if strings.Contains(jsonString(item["edits"]), "icd10cm-tabular") {
		t.Errorf("a Tabular List coverage note with the Tabular List loaded: %v", item["edits"])
	}
	code, body := apiJSON(t, m, "POST", base+"/submit", "e2e-coder-token", map[string]any{"acknowledgeWarnings": true})
	if code != 422 || !strings.Contains(jsonString(body), "TABULAR_EXCLUDES1") {
		t.Fatalf("submit of an Excludes1 pair = %d %v, want 422 naming TABULAR_EXCLUDES1", code, body)
	}
	ok := map[string]any{"diagnoses": []any{map[string]any{"code": "E11.9"}, map[string]any{"code": "I10"}},
		"lines": []any{map[string]any{"code": "99213", "units": 1, "diagnoses": []int{1}}}}
	if code, body := apiJSON(t, m, "PUT", base+"/codes", "e2e-coder-token", ok); code != 200 || strings.Contains(jsonString(body["edits"]), "TABULAR_") {
		t.Fatalf("PUT codes without the pair = %d edits %v", code, body["edits"])
	}
	if code, body := apiJSON(t, m, "POST", base+"/submit", "e2e-coder-token", map[string]any{"acknowledgeWarnings": true}); code != 200 || body["status"] != "completed" {
		t.Fatalf("submit without the pair = %d %v edits %v", code, body["status"], body["edits"])
	}
}
