package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
	"github.com/codebridge/codebridge/config"
	"github.com/codebridge/codebridge/fhir"
)

// chargeItemJSON is a billable ChargeItem on Encounter/{enc}: CPT code with
// the given modifiers and quantity, for diagnosis J20.9.
func chargeItemJSON(id, enc, code string, qty int, mods ...string) string {
	var ext []string
	for _, m := range mods {
		ext = append(ext, fmt.Sprintf(`{"url":%q,"valueCoding":{"system":%q,"code":%q}}`, fhir.ExtensionChargeItemModifier, fhir.SystemCPT, m))
	}
	return fmt.Sprintf(`{"resourceType":"ChargeItem","id":%q,"extension":[%s],"status":"billable",`+
		`"code":{"coding":[{"system":%q,"code":%q}]},"subject":{"reference":"Patient/p-%s"},"context":{"reference":"Encounter/%s"},`+
		`"occurrenceDateTime":"2026-03-10","quantity":{"value":%d},"reason":[{"coding":[{"system":%q,"code":"J20.9"}]}]}`,
		id, strings.Join(ext, ","), fhir.SystemCPT, code, enc, enc, qty, fhir.SystemICD10CM)
}

// putChargedVisit stores a finished visit of class with one J20.9
// encounter diagnosis, the ChargeItem first (out of order), then the
// Encounter and its Condition.
func putChargedVisit(t *testing.T, m *Main, enc, class, charge string) {
	t.Helper()
	if r := send(t, m, "PUT", "/fhir/ChargeItem/ch-"+enc, []byte(charge)); r.code != 201 {
		t.Fatalf("PUT ChargeItem = %d %s", r.code, r.body)
	}
	body := fmt.Sprintf(`{"resourceType":"Encounter","id":%q,"status":"finished","class":{"system":%q,"code":%q},`+
		`"subject":{"reference":"Patient/p-%s"},"serviceProvider":{"reference":"Organization/clinic"},`+
		`"period":{"start":"2026-03-10T14:00:00Z","end":"2026-03-10T14:20:00Z"}}`, enc, fhir.SystemActCode, class, enc)
	if r := send(t, m, "PUT", "/fhir/Encounter/"+enc, []byte(body)); r.code != 201 {
		t.Fatalf("PUT Encounter = %d %s", r.code, r.body)
	}
	cond := fmt.Sprintf(`{"resourceType":"Condition","id":"c-%s","category":[{"coding":[{"system":%q,"code":"encounter-diagnosis"}]}],`+
		`"code":{"coding":[{"system":%q,"code":"J20.9"}]},"subject":{"reference":"Patient/p-%s"},"encounter":{"reference":"Encounter/%s"}}`,
		enc, fhir.SystemConditionCategory, fhir.SystemICD10CM, enc, enc)
	if r := send(t, m, "PUT", "/fhir/Condition/c-"+enc, []byte(cond)); r.code != 201 {
		t.Fatalf("PUT Condition = %d %s", r.code, r.body)
	}
}

// itemOf returns the single-item view of an encounter's work item.
func itemOf(t *testing.T, m *Main, enc string) map[string]any {
	t.Helper()
	_, list := apiCall(t, m, "GET", "/api/v1/work-items?encounter=Encounter/"+enc, "e2e-admin-token")
	items, _ := list["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("work items of %s: %v", enc, list)
	}
	code, full := apiCall(t, m, "GET", "/api/v1/work-items/"+items[0].(map[string]any)["id"].(string), "e2e-admin-token")
	if code != 200 {
		t.Fatalf("GET work item = %d", code)
	}
	return full
}

// TestChargeItemStoredServedAndSuggested: a ChargeItem is stored and served
// like the other clinical types, and its code becomes a suggested line with
// the charge's units and modifiers.
func TestChargeItemStoredServedAndSuggested(t *testing.T) {
	m := startMain(t, pgtest.NewURL(t))
	if r := send(t, m, "GET", "/fhir/metadata", nil); !strings.Contains(string(r.body), `"type":"ChargeItem"`) {
		t.Errorf("CapabilityStatement lacks ChargeItem: %s", r.body)
	}
	charge := chargeItemJSON("ch-v1", "v1", "94640", 2, "76")
	putChargedVisit(t, m, "v1", "AMB", charge)

	r := send(t, m, "GET", "/fhir/ChargeItem/ch-v1", nil)
	if r.code != 200 || r.header.Get("ETag") != `W/"1"` {
		t.Fatalf("read = %d %v %s", r.code, r.header, r.body)
	}
	parser, err := fhir.NewParser()
	if err != nil {
		t.Fatal(err)
	}
	res, err := parser.Parse(r.body)
	if err != nil {
		t.Fatalf("served ChargeItem is not valid R4: %v", err)
	}
	if ci, err := fhir.ChargeItemOf(res); err != nil || ci.Quantity != 2 || len(ci.Modifiers) != 1 || ci.Modifiers[0].Code != "76" {
		t.Fatalf("read back %+v (%v) from %s", ci, err, r.body)
	}
	if v := send(t, m, "GET", "/fhir/ChargeItem/ch-v1/_history/1", nil); v.code != 200 {
		t.Fatalf("vread = %d %s", v.code, v.body)
	}
	if again := send(t, m, "PUT", "/fhir/ChargeItem/ch-v1", []byte(charge)); again.code != 200 || again.header.Get("ETag") != `W/"1"` {
		t.Fatalf("identical re-send = %d %s, want 200 and version 1", again.code, again.header.Get("ETag"))
	}

	full := itemOf(t, m, "v1")
	if full["status"] != "ready" {
		t.Fatalf("status = %v, want ready", full["status"])
	}
	charges, _ := full["charges"].([]any)
	if len(charges) != 1 || jsonString(charges[0].(map[string]any)["modifiers"]) != `["76"]` {
		t.Fatalf("charges = %s", jsonString(full["charges"]))
	}
	var lines []map[string]any
	for _, s := range full["suggestedCodes"].([]any) {
		if s := s.(map[string]any); s["kind"] == "procedure" {
			lines = append(lines, s)
		}
	}
	want := []map[string]any{{"system": "cpt", "code": "94640", "source": "ChargeItem/ch-v1", "kind": "procedure",
		"modifiers": []any{"76"}, "units": float64(2), "diagnoses": []any{float64(1)}, "serviceDate": "2026-03-10"}}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("suggested lines mismatch (-want +got):\n%s", diff)
	}

	// A corrected charge (one unit) makes a new version and re-derives the line.
	fixed := chargeItemJSON("ch-v1", "v1", "94640", 1, "76")
	if r := send(t, m, "PUT", "/fhir/ChargeItem/ch-v1", []byte(fixed)); r.code != 200 || r.header.Get("ETag") != `W/"2"` {
		t.Fatalf("update = %d %s", r.code, r.header.Get("ETag"))
	}
	if got := jsonString(itemOf(t, m, "v1")["suggestedCodes"]); !strings.Contains(got, `"units":1`) {
		t.Errorf("after the correction, suggested codes %s, want one unit", got)
	}
}

// TestChargeItemStraightThrough: the straight-through coder bills a charge
// with its units, modifiers and diagnosis pointers.
func TestChargeItemStraightThrough(t *testing.T) {
	m := startMain(t, pgtest.NewURLWithBundledCodes(t), func(c *config.Config) {
		c.AutoCode = true
		c.QASampleRate = 0
		c.AutoCodeAllowWarnings = []string{"NO_RELEASE_FOR_DOS:icd10cm-tabular"} // no Tabular List loaded here
	})
	org := fmt.Sprintf(`{"resourceType":"Organization","id":"clinic","identifier":[{"system":%q,"value":"1234567893"}],"name":"Clinic"}`, fhir.SystemNPI)
	if r := send(t, m, "PUT", "/fhir/Organization/clinic", []byte(org)); r.code != 201 {
		t.Fatalf("PUT Organization = %d %s", r.code, r.body)
	}
	putChargedVisit(t, m, "tele", "VR", chargeItemJSON("ch-tele", "tele", "99213", 1, "95"))
	waitStatus(t, m, "Encounter/tele", "completed")
	want := map[string]any{
		"diagnoses": []any{map[string]any{"code": "J20.9"}},
		"lines": []any{map[string]any{"code": "99213", "modifiers": []any{"95"}, "units": float64(1),
			"diagnoses": []any{float64(1)}, "serviceDate": "2026-03-10"}},
	}
	if diff := cmp.Diff(want, itemOf(t, m, "tele")["codes"]); diff != "" {
		t.Errorf("auto-coded codes mismatch (-want +got):\n%s", diff)
	}
	// Two units with no MUE table loaded: an MUE could have fired, so the
	// chart waits for a coder (issue #17; it used to be coded).
	putChargedVisit(t, m, "tele2", "VR", chargeItemJSON("ch-tele2", "tele2", "99213", 2, "95"))
	if got := reasonCodes(waitAutocode(t, m, "tele2")); !slices.Equal(got, []string{"NO_RELEASE_FOR_DOS"}) {
		t.Errorf("two units without an MUE table: reasons %v, want NO_RELEASE_FOR_DOS", got)
	}
}
