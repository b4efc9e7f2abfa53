package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
	"github.com/codebridge/codebridge/config"
	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping/codes"
)

// stCondition is one Condition of a straight-through test chart.
type stCondition struct {
	key          string // names it in the chart's ranks
	code         string // ICD-10-CM; "" sends a SNOMED coding only
	problemList  bool   // category problem-list-item instead of encounter-diagnosis
	verification string // verificationStatus, "" for none
	clinical     string // clinicalStatus, "" for none
	otherEnc     bool   // documented for another (unfinished) encounter
	also         string // a second ICD-10-CM coding on the same Condition
}

// stRank is one Encounter.diagnosis entry.
type stRank struct {
	key  string
	rank int
	use  string
}

// stService is one billed service: a Procedure, or a ChargeItem when units
// is above 0.
type stService struct {
	system, code string
	units        int
}

// stChart is one fully coded chart posted as a transaction Bundle.
type stChart struct {
	name      string
	class     string // default AMB
	day       string // date of service, default 2026-03-10 (FY2026 ICD-10-CM)
	gender    string // default female
	birth     string // default 1980-05-01
	conds     []stCondition
	ranks     []stRank
	services  []stService
	want      []string // reason codes; nil: coded, with a Claim
	wantCodes []string // the coded diagnoses, in sequence (coded charts)
}

func (c stChart) bundle() []byte {
	day, class, gender, birth := c.day, c.class, c.gender, c.birth
	if day == "" {
		day = "2026-03-10"
	}
	if class == "" {
		class = "AMB"
	}
	if gender == "" {
		gender = "female"
	}
	if birth == "" {
		birth = "1980-05-01"
	}
	u := func(s string) string { return "urn:uuid:" + uuidOf(c.name+"/"+s) }
	ref := func(s string) map[string]any { return map[string]any{"reference": u(s)} }
	concept := func(system, code string) map[string]any {
		return map[string]any{"coding": []any{map[string]any{"system": system, "code": code}}}
	}
	var entries []any
	add := func(key, typ string, res map[string]any) {
		res["resourceType"] = typ
		entries = append(entries, map[string]any{"fullUrl": u(key), "resource": res, "request": map[string]any{"method": "POST", "url": typ}})
	}
	add("patient", "Patient", map[string]any{"identifier": []any{map[string]any{"system": "urn:example:mrn", "value": "ST-" + c.name}},
		"gender": gender, "birthDate": birth, "name": []any{map[string]any{"family": "Straight"}}})
	enc := map[string]any{
		"status":          "finished",
		"class":           map[string]any{"system": fhir.SystemActCode, "code": class},
		"identifier":      []any{map[string]any{"system": "urn:example:visit", "value": "ST-" + c.name}},
		"subject":         ref("patient"),
		"serviceProvider": map[string]any{"reference": "Organization/clinic"},
		"period":          map[string]any{"start": day + "T14:00:00Z", "end": day + "T14:30:00Z"},
	}
	var diags []any
	for _, r := range c.ranks {
		d := map[string]any{"condition": ref(r.key)}
		if r.rank > 0 {
			d["rank"] = r.rank
		}
		if r.use != "" {
			d["use"] = concept(fhir.SystemDiagnosisRole, r.use)
		}
		diags = append(diags, d)
	}
	if diags != nil {
		enc["diagnosis"] = diags
	}
	add("encounter", "Encounter", enc)
	if slices.ContainsFunc(c.conds, func(d stCondition) bool { return d.otherEnc }) {
		add("other", "Encounter", map[string]any{"status": "in-progress", "class": map[string]any{"system": fhir.SystemActCode, "code": "AMB"},
			"subject": ref("patient"), "period": map[string]any{"start": day + "T09:00:00Z"}})
	}
	for _, d := range c.conds {
		category := "encounter-diagnosis"
		if d.problemList {
			category = "problem-list-item"
		}
		code := concept(fhir.SystemICD10CM, d.code)
		if d.code == "" {
			code = concept(fhir.SystemSNOMED, "10509002")
		}
		if d.also != "" {
			code["coding"] = append(code["coding"].([]any), map[string]any{"system": fhir.SystemICD10CM, "code": d.also})
		}
		res := map[string]any{"category": []any{concept(fhir.SystemConditionCategory, category)}, "code": code,
			"subject": ref("patient"), "encounter": ref("encounter")}
		if d.otherEnc {
			res["encounter"] = ref("other")
		}
		if d.verification != "" {
			res["verificationStatus"] = concept(fhir.SystemConditionVerification, d.verification)
		}
		if d.clinical != "" {
			res["clinicalStatus"] = concept(fhir.SystemConditionClinical, d.clinical)
		}
		add(d.key, "Condition", res)
	}
	for i, s := range c.services {
		key := fmt.Sprintf("service%d", i)
		if s.units > 0 {
			add(key, "ChargeItem", map[string]any{"status": "billable", "code": concept(s.system, s.code), "subject": ref("patient"),
				"context": ref("encounter"), "occurrenceDateTime": day, "quantity": map[string]any{"value": s.units}})
			continue
		}
		add(key, "Procedure", map[string]any{"status": "completed", "code": concept(s.system, s.code), "subject": ref("patient"),
			"encounter": ref("encounter"), "performedDateTime": day + "T14:10:00Z"})
	}
	b, _ := json.Marshal(map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": entries})
	return b
}

// uuidOf is a stable UUID-shaped name for s.
func uuidOf(s string) string {
	var h uint64 = 14695981039346656037
	for _, c := range []byte(s) {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return fmt.Sprintf("5a000000-0000-4000-8000-%012x", h&0xffffffffffff)
}

// TestStraightThroughPolicyEndToEnd posts fully coded charts through the
// FHIR API with straight-through coding on and the bundled code sets
// loaded (ICD-10-CM and ICD-10-PCS FY2026, HCPCS 2025-Oct; no CPT, MUE or
// PTP file) and the Tabular List fixture: the clean ones get Claims, and
// each chart that breaks one rule of the policy (README "Straight-through
// coding") waits in the queue with that rule's reason code.
// TELEHEALTH_MODIFIER is allowlisted.
func TestStraightThroughPolicyEndToEnd(t *testing.T) {
	m := startMain(t, pgtest.NewURLWithBundledCodes(t), func(c *config.Config) {
		c.AutoCode = true
		c.QASampleRate = 0
		c.AutoCodeAllowWarnings = []string{"TELEHEALTH_MODIFIER"}
	})
	cs := postgres.NewCodeStore(m.DB)
	// The Tabular List fixture for the first nine months of FY2026 only,
	// so that a chart of 2026-08-10 has no Tabular List in force.
	tabRel := codes.Release{System: codes.ICD10CMTabular, Version: "FY2026", From: time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC),
		To: time.Date(2026, 6, 30, 0, 0, 0, 0, time.UTC)}
	tabXML, err := os.ReadFile(tabularFixture)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.LoadRelease(t.Context(), tabRel, bytes.NewReader(tabXML), nil); err != nil {
		t.Fatal(err)
	}
	org := fmt.Sprintf(`{"resourceType":"Organization","id":"clinic","identifier":[{"system":%q,"value":"1234567893"}],"name":"Clinic"}`, fhir.SystemNPI)
	if r := send(t, m, "PUT", "/fhir/Organization/clinic", []byte(org)); r.code != 201 {
		t.Fatalf("PUT Organization = %d %s", r.code, r.body)
	}
	dx := func(key, code string) stCondition { return stCondition{key: key, code: code} }
	em := []stService{{system: fhir.SystemCPT, code: "99213"}}
	charts := []stChart{
		// Clean charts: coded straight through, with a Claim.
		{name: "single-dx", conds: []stCondition{dx("a", "J20.9")}, services: em, wantCodes: []string{"J20.9"}},
		{name: "ranked", conds: []stCondition{dx("a", "I10"), dx("b", "J20.9")}, ranks: []stRank{{"b", 1, ""}, {"a", 2, ""}},
			services: em, wantCodes: []string{"J20.9", "I10"}},
		{name: "billing-use", conds: []stCondition{dx("a", "I10"), dx("b", "J20.9")},
			ranks: []stRank{{"a", 1, "AD"}, {"b", 1, "billing"}}, services: em, wantCodes: []string{"J20.9", "I10"}},
		{name: "resolved-problem-context", conds: []stCondition{dx("a", "J20.9"),
			{key: "b", code: "E11.9", problemList: true, verification: "confirmed", clinical: "resolved"}}, services: em, wantCodes: []string{"J20.9"}},
		{name: "refuted-context", conds: []stCondition{dx("a", "J20.9"),
			{key: "b", code: "J18.9", problemList: true, verification: "refuted", clinical: "inactive"}}, services: em, wantCodes: []string{"J20.9"}},
		{name: "confirmed-active-problem", conds: []stCondition{{key: "a", code: "J20.9", verification: "confirmed", clinical: "active"},
			{key: "b", code: "I10", problemList: true, verification: "confirmed", clinical: "active"}},
			ranks: []stRank{{"a", 1, ""}}, services: em, wantCodes: []string{"J20.9"}}, // IV.J: the problem-list entry is context
		{name: "recurrence", conds: []stCondition{{key: "a", code: "K21.9", verification: "confirmed", clinical: "recurrence"}},
			services: em, wantCodes: []string{"K21.9"}},
		{name: "hcpcs-in-quarter", day: "2025-11-14", conds: []stCondition{dx("a", "Z23")},
			services: []stService{{system: fhir.SystemHCPCS, code: "G0008"}}, wantCodes: []string{"Z23"}},
		{name: "telehealth-allowlisted", class: "VR", conds: []stCondition{dx("a", "J20.9")}, services: em, wantCodes: []string{"J20.9"}},
		{name: "one-unit-charge", conds: []stCondition{dx("a", "J20.9")},
			services: []stService{{system: fhir.SystemCPT, code: "97110", units: 1}}, wantCodes: []string{"J20.9"}},

		// One chart per stop rule.
		{name: "inpatient", class: "IMP", conds: []stCondition{dx("a", "J20.9")}, want: []string{"INPATIENT_STAY"}},
		{name: "snomed-only", conds: []stCondition{dx("a", "")}, services: em, want: []string{"DX_WITHOUT_ICD10CM"}},
		{name: "procedure-snomed", conds: []stCondition{dx("a", "J20.9")},
			services: []stService{{system: fhir.SystemSNOMED, code: "185349003"}}, want: []string{"PROCEDURE_WITHOUT_CPT_HCPCS"}},
		{name: "unranked", conds: []stCondition{dx("a", "J20.9"), dx("b", "I10")}, services: em, want: []string{"FIRST_LISTED_UNRANKED"}},
		{name: "rank-tie", conds: []stCondition{dx("a", "J20.9"), dx("b", "I10")}, ranks: []stRank{{"a", 1, ""}, {"b", 1, ""}},
			services: em, want: []string{"RANK_TIE"}},
		{name: "other-encounter", conds: []stCondition{{key: "x", code: "I10", otherEnc: true}, dx("a", "J20.9")},
			ranks: []stRank{{"x", 1, ""}, {"a", 2, ""}}, services: em, want: []string{"DX_OTHER_ENCOUNTER"}},
		{name: "differential", conds: []stCondition{{key: "a", code: "J18.9", verification: "differential"}}, services: em,
			want: []string{"DX_NOT_CONFIRMED"}},
		{name: "provisional-secondary", conds: []stCondition{dx("a", "J20.9"), {key: "b", code: "R05.9", verification: "provisional"}},
			ranks: []stRank{{"a", 1, ""}, {"b", 2, ""}}, services: em, want: []string{"DX_NOT_CONFIRMED"}},
		{name: "resolved-dx", conds: []stCondition{{key: "a", code: "J20.9", verification: "confirmed", clinical: "resolved"}}, services: em,
			want: []string{"DX_NOT_ACTIVE"}},
		{name: "multiple-codings", conds: []stCondition{{key: "a", code: "J20.9", also: "R05.9"}}, services: em,
			want: []string{"DX_MULTIPLE_CODINGS"}},
		{name: "remission", conds: []stCondition{{key: "a", code: "F10.21", verification: "confirmed", clinical: "remission"}}, services: em,
			want: []string{"DX_NOT_ACTIVE"}},
		{name: "problem-list-only", conds: []stCondition{{key: "a", code: "I10", problemList: true, verification: "confirmed", clinical: "active"}},
			services: em, want: []string{"NO_ENCOUNTER_DIAGNOSIS"}},
		{name: "header-code", conds: []stCondition{dx("a", "J20")}, services: em, want: []string{"DX_HEADER"}},
		{name: "sex-conflict", gender: "male", conds: []stCondition{dx("a", "N92.0")}, services: em, want: []string{"SEX_CONFLICT"}},
		{name: "age-conflict", birth: "1955-01-01", conds: []stCondition{dx("a", "O80")}, services: em, want: []string{"MCE_AGE_CONFLICT"}},
		{name: "mce-manifestation-first", conds: []stCondition{dx("a", "D63.1")}, services: em, want: []string{"MCE_MANIFESTATION_AS_PRINCIPAL"}},
		{name: "mce-unacceptable-first-listed", conds: []stCondition{dx("a", "B95.0")}, services: em, want: []string{"MCE_UNACCEPTABLE_PRINCIPAL"}},
		{name: "no-ptp-table", conds: []stCondition{dx("a", "J20.9")},
			services: []stService{{system: fhir.SystemCPT, code: "99213"}, {system: fhir.SystemCPT, code: "96372"}}, want: []string{"NO_RELEASE_FOR_DOS"}},
		{name: "no-mue-table", conds: []stCondition{dx("a", "J20.9")},
			services: []stService{{system: fhir.SystemCPT, code: "97110", units: 2}}, want: []string{"NO_RELEASE_FOR_DOS"}},
		{name: "no-hcpcs-release", conds: []stCondition{dx("a", "Z23")},
			services: []stService{{system: fhir.SystemHCPCS, code: "G0008"}}, want: []string{"NO_RELEASE_FOR_DOS"}},
		// The Tabular List instructions (fixture): an Excludes1 pair, a
		// manifestation before its etiology, no Tabular List in force.
		{name: "tabular-excludes1", conds: []stCondition{dx("a", "E11.9"), dx("b", "E10.9")}, ranks: []stRank{{"a", 1, ""}, {"b", 2, ""}},
			services: em, want: []string{"TABULAR_EXCLUDES1"}},
		// G63 first-listed breaks the Tabular List's code first note and
		// the MCE's manifestation list alike: the coder reads both, each
		// naming its own source.
		{name: "tabular-code-first", conds: []stCondition{dx("a", "G63"), dx("b", "E03.9")}, ranks: []stRank{{"a", 1, ""}, {"b", 2, ""}},
			services: em, want: []string{"TABULAR_CODE_FIRST", "MCE_MANIFESTATION_AS_PRINCIPAL"}},
		{name: "tabular-etiology-first", conds: []stCondition{dx("a", "G63"), dx("b", "E03.9")}, ranks: []stRank{{"b", 1, ""}, {"a", 2, ""}},
			services: em, wantCodes: []string{"E03.9", "G63"}},
		{name: "no-tabular-list", day: "2026-08-10", conds: []stCondition{dx("a", "J20.9")}, services: em, want: []string{"NO_RELEASE_FOR_DOS"}},
	}
	encs := make([]string, len(charts))
	for i, c := range charts {
		r := send(t, m, "POST", "/fhir", c.bundle())
		var resp struct {
			Entry []struct{ Response struct{ Location string } }
		}
		if err := json.Unmarshal(r.body, &resp); err != nil || r.code != 200 || len(resp.Entry) < 2 {
			t.Fatalf("%s: POST /fhir = %d %s", c.name, r.code, r.body)
		}
		encs[i], _, _ = strings.Cut(strings.TrimPrefix(resp.Entry[1].Response.Location, "Encounter/"), "/")
	}
	var skipped []string
	for i, c := range charts {
		it := waitAutocode(t, m, encs[i])
		auto := it["autocode"].(map[string]any)
		var codes []string
		for _, r := range auto["reasons"].([]any) {
			code, sentence, _ := strings.Cut(r.(string), ": ")
			if sentence == "" {
				t.Errorf("%s: reason %q has no sentence", c.name, r)
			}
			codes = append(codes, code)
		}
		if diff := cmp.Diff(c.want, codes); diff != "" {
			t.Errorf("%s: reasons mismatch (-want +got):\n%s\n%v", c.name, diff, auto["reasons"])
		}
		if c.want != nil {
			skipped = append(skipped, it["id"].(string))
			if auto["decision"] != "skipped" || it["status"] != "ready" || it["claim"] != "" {
				t.Errorf("%s: %v, status %v, claim %v; want skipped, waiting in the queue without a Claim", c.name, auto["decision"], it["status"], it["claim"])
			}
			continue
		}
		if auto["decision"] != "coded" || it["status"] != "completed" || !strings.HasPrefix(it["claim"].(string), "Claim/") {
			t.Errorf("%s: %v, status %v, claim %v; want coded and completed with a Claim", c.name, auto["decision"], it["status"], it["claim"])
		}
		var got []string
		for _, d := range it["codes"].(map[string]any)["diagnoses"].([]any) {
			got = append(got, d.(map[string]any)["code"].(string))
		}
		if diff := cmp.Diff(c.wantCodes, got); diff != "" {
			t.Errorf("%s: coded diagnoses mismatch (-want +got):\n%s", c.name, diff)
		}
	}

	// The worklist filter lists exactly the charts left by the straight-through coder.
	_, list := apiCall(t, m, "GET", "/api/v1/work-items?autocode=skipped&limit=500", "e2e-admin-token")
	var listed []string
	for _, it := range list["items"].([]any) {
		listed = append(listed, it.(map[string]any)["id"].(string))
	}
	slices.Sort(listed)
	slices.Sort(skipped)
	if diff := cmp.Diff(skipped, listed); diff != "" {
		t.Errorf("autocode=skipped mismatch (-want +got):\n%s", diff)
	}
	// The report gives the straight-through rate and the reasons.
	_, rep := apiCall(t, m, "GET", "/api/v1/reports/straight-through", "e2e-admin-token")
	clean := len(charts) - len(skipped)
	if rep["looked"] != float64(len(charts)) || rep["passed"] != float64(clean) || rep["skipped"] != float64(len(skipped)) {
		t.Errorf("report %v; want %d looked, %d passed, %d skipped", rep, len(charts), clean, len(skipped))
	}
	counts := map[string]float64{}
	for _, r := range rep["reasons"].([]any) {
		counts[r.(map[string]any)["code"].(string)] = r.(map[string]any)["count"].(float64)
	}
	if counts["NO_RELEASE_FOR_DOS"] != 4 || counts["DX_NOT_CONFIRMED"] != 2 || counts["RANK_TIE"] != 1 || counts["TABULAR_EXCLUDES1"] != 1 {
		t.Errorf("report reasons %v; want NO_RELEASE_FOR_DOS 4, DX_NOT_CONFIRMED 2, RANK_TIE 1, TABULAR_EXCLUDES1 1", counts)
	}
}

// waitAutocode polls an encounter's single-item view until the
// straight-through coder has decided on it.
func waitAutocode(t *testing.T, m *Main, enc string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, list := apiCall(t, m, "GET", "/api/v1/work-items?encounter=Encounter/"+enc, "e2e-admin-token")
		if items, _ := list["items"].([]any); len(items) == 1 {
			id := items[0].(map[string]any)["id"].(string)
			// The decision must be on the item's current version: a visit
			// whose resources arrive one by one may be looked at before its
			// Conditions arrive, and is looked at again once they have.
			var current bool
			if err := m.DB.QueryRow(`SELECT autocode_version = version FROM work_items WHERE id = $1`, id).Scan(&current); err != nil {
				t.Fatal(err)
			}
			_, it := apiCall(t, m, "GET", "/api/v1/work-items/"+id, "e2e-admin-token")
			if current && it["autocode"] != nil {
				return it
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("Encounter/%s: the straight-through coder never decided", enc)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
