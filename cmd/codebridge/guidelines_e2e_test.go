package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
	"github.com/codebridge/codebridge/config"
)

// TestGuidelineSequencingE2E codes the sample telehealth visit (2026-03-10,
// FY2026) through the API on the bundled code sets with charts the ICD-10-CM
// Official Guidelines FY2026 forbid: an external cause code first-listed
// (I.C.20) and a first-listed-only Z code second (I.C.21.c.15). Each is
// answered with its guideline edit, naming the section and quoting the
// guideline, and each submit is refused (422) with the rule in the details.
// So are the Medicare Code Editor's: a manifestation code first-listed
// (D63.1, anemia in chronic kidney disease, before N18.4) and a code of the
// MCE perinatal/newborn (age 0) list (E84.11, meconium ileus in cystic
// fibrosis) on the sample's adult patient.
// The same codes in the guideline's order are submitted, with Z51.0 second
// (Z51.0 and Z51.1- may be assigned together, I.C.2.e.2).
func TestGuidelineSequencingE2E(t *testing.T) {
	m := startMain(t, pgtest.NewURLWithBundledCodes(t), func(c *config.Config) { c.QASampleRate = 0 })
	if r := send(t, m, "POST", "/fhir", sample(t)); r.code != 200 {
		t.Fatalf("sample = %d %s", r.code, r.body)
	}
	code, item := apiCall(t, m, "POST", "/api/v1/work-items/next", "e2e-coder-token")
	if code != 200 {
		t.Fatalf("next = %d", code)
	}
	base := "/api/v1/work-items/" + item["id"].(string)
	assign := func(dx ...string) map[string]any {
		var ds []any
		ptrs := []int{}
		for i, d := range dx {
			ds = append(ds, map[string]any{"code": d})
			if i < 4 {
				ptrs = append(ptrs, i+1)
			}
		}
		return map[string]any{"diagnoses": ds,
			"lines": []any{map[string]any{"code": "99213", "modifiers": []string{"95"}, "units": 1, "diagnoses": ptrs}}}
	}
	const source = "ICD-10-CM Official Guidelines for Coding and Reporting FY2026, section "
	refused := []struct {
		name     string
		dx       []string
		edit     string
		target   string
		rule     string // the Rule, or for rulePart a part of it
		rulePart bool
		ruleText string
	}{
		{"external cause first-listed", []string{"W19.XXXA", "S52.501A"}, "GL_EXTERNAL_CAUSE_FIRST", "diagnoses[0]", source + "I.C.20", false,
			"The external causes of morbidity codes should never be sequenced as the first-listed or principal diagnosis."},
		{"first-listed-only Z code second", []string{"C50.911", "Z51.11"}, "GL_Z_FIRST_LISTED_ONLY", "diagnoses[1]", source + "I.C.21.c.15", false,
			"Z51.1- Encounter for antineoplastic chemotherapy and immunotherapy"},
		{"manifestation code first-listed", []string{"D63.1", "N18.4"}, "MCE_MANIFESTATION_AS_PRINCIPAL", "diagnoses[0]",
			"Manifestation code as principal diagnosis §6", true, "should not be used as a principal diagnosis"},
		{"perinatal code on an adult", []string{"J20.9", "E84.11"}, "MCE_AGE_CONFLICT", "diagnoses[1]",
			"Age conflict (perinatal/newborn diagnoses, age 0) §4.A", true, "inconsistencies between a patient's age and any diagnosis"},
	}
	for _, tt := range refused {
		ruleOK := func(r any) bool {
			s, _ := r.(string)
			return s == tt.rule || tt.rulePart && strings.Contains(s, tt.rule)
		}
		code, item = apiJSON(t, m, "PUT", base+"/codes", "e2e-coder-token", assign(tt.dx...))
		if code != 200 {
			t.Fatalf("%s: PUT = %d %v", tt.name, code, item)
		}
		edit := findEdit(item["edits"], tt.edit)
		if edit == nil || edit["severity"] != "error" || edit["target"] != tt.target || !ruleOK(edit["rule"]) ||
			!strings.Contains(edit["ruleText"].(string), tt.ruleText) {
			t.Fatalf("%s: edits %s, want %s at %s citing %q and quoting %q", tt.name, jsonString(item["edits"]), tt.edit, tt.target, tt.rule, tt.ruleText)
		}
		code, body := apiJSON(t, m, "POST", base+"/submit", "e2e-coder-token", map[string]any{"acknowledgeWarnings": true})
		if code != 422 {
			t.Fatalf("%s: submit = %d %v, want 422", tt.name, code, body)
		}
		details, _ := body["error"].(map[string]any)["details"].([]any)
		var issue map[string]any
		for _, d := range details {
			if d := d.(map[string]any); d["code"] == tt.edit {
				issue = d
			}
		}
		if issue == nil || issue["severity"] != "error" || !ruleOK(issue["rule"]) || !strings.Contains(issue["ruleText"].(string), tt.ruleText) ||
			jsonString(issue["expression"]) != `["`+tt.target+`"]` {
			t.Fatalf("%s: refusal %s, want %s naming %q", tt.name, jsonString(body), tt.edit, tt.rule)
		}
	}
	// The single-item view carries the last chart's edits with their rules too.
	last := refused[len(refused)-1]
	if _, item = apiCall(t, m, "GET", base, "e2e-coder-token"); !strings.Contains(fmt.Sprint(findEdit(item["edits"], last.edit)["rule"]), last.rule) {
		t.Errorf("single-item view edits %s lack the rule %q", jsonString(item["edits"]), last.rule)
	}

	// In the guideline's order the chart goes through.
	code, item = apiJSON(t, m, "PUT", base+"/codes", "e2e-coder-token", assign("Z51.11", "Z51.0", "C50.911"))
	if code != 200 {
		t.Fatalf("PUT in order = %d %v", code, item)
	}
	for _, e := range item["edits"].([]any) {
		if e := e.(map[string]any); e["severity"] == "error" || strings.HasPrefix(e["code"].(string), "GL_") {
			t.Fatalf("codes in the guideline's order still have %v", e)
		}
	}
	code, item = apiJSON(t, m, "POST", base+"/submit", "e2e-coder-token", map[string]any{"acknowledgeWarnings": true})
	if code != 200 || item["status"] != "completed" {
		t.Fatalf("submit in order = %d %v", code, item)
	}
}

// findEdit returns the edit with code in an item's edits, or nil.
func findEdit(edits any, code string) map[string]any {
	list, _ := edits.([]any)
	for _, e := range list {
		if e := e.(map[string]any); e["code"] == code {
			return e
		}
	}
	return nil
}
