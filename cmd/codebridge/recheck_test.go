package main

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
	"github.com/codebridge/codebridge/mapping/codes"
)

// icdOrder is a hand-made ICD-10-CM order file (CMS fixed layout) of
// "code flag title" rows.
func icdOrder(rows ...string) []byte {
	var b bytes.Buffer
	for i, r := range rows {
		f := strings.SplitN(r, " ", 3)
		fmt.Fprintf(&b, "%05d %-7s %s %-60s %s\r\n", i+1, f[0], f[1], f[2], f[2])
	}
	return b.Bytes()
}

// loadICDVersion loads an ICD-10-CM release through its own connection,
// as `codes load` in another process would.
func loadICDVersion(t *testing.T, dbURL, version string, data []byte) {
	t.Helper()
	db, err := postgres.Open(t.Context(), dbURL, postgres.Options{MaxOpenConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rel, err := codes.NewRelease(codes.ICD10CM, version)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := postgres.NewCodeStore(db).LoadRelease(t.Context(), rel, bytes.NewReader(data), nil); err != nil {
		t.Fatal(err)
	}
}

// noteCovers are the code sets the NO_RELEASE_FOR_DOS notes of edits name.
func noteCovers(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, e := range list {
		if m := e.(map[string]any); m["code"] == "NO_RELEASE_FOR_DOS" {
			out = append(out, fmt.Sprint(m["covers"]))
		}
	}
	return out
}

// TestRecheckWorker: a coder's item of 2026-11-15 coded with only FY2026
// ICD-10-CM loaded carries NO_RELEASE_FOR_DOS for icd10cm; FY2027 loaded
// by another process while serving is noticed by the re-check worker,
// which recomputes the item's edits (the note gone, D69.1 now a header)
// without changing its version, so the coder's If-Match still holds; the
// re-check is counted in codebridge_recheck_items_total.
func TestRecheckWorker(t *testing.T) {
	url := pgtest.NewURL(t)
	m := startMain(t, url)
	fy26 := icdOrder("D69 0 Purpura and other haemorrhagic conditions", "D691 1 Qualitative platelet defects", "J20 0 Acute bronchitis", "J209 1 Acute bronchitis, unspecified")
	fy27 := icdOrder("D69 0 Purpura and other haemorrhagic conditions", "D691 0 Qualitative platelet defects", "D6911 1 Qualitative platelet defect, unspecified",
		"J20 0 Acute bronchitis", "J209 1 Acute bronchitis, unspecified")
	loadICDVersion(t, url, "FY2026", fy26)

	enc := `{"resourceType":"Encounter","id":"nov","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},"subject":{"reference":"Patient/p-nov"},"period":{"start":"2026-11-15T14:00:00Z","end":"2026-11-15T15:00:00Z"}}`
	if r := send(t, m, "PUT", "/fhir/Encounter/nov", []byte(enc)); r.code != 201 {
		t.Fatalf("PUT Encounter = %d %s", r.code, r.body)
	}
	code, item := apiCall(t, m, "POST", "/api/v1/work-items/next", "e2e-coder-token")
	if code != 200 {
		t.Fatalf("next = %d %v", code, item)
	}
	base := "/api/v1/work-items/" + item["id"].(string)
	as := map[string]any{"diagnoses": []any{map[string]any{"code": "D69.1"}, map[string]any{"code": "J20.9"}}}
	code, item = apiJSON(t, m, "PUT", base+"/codes", "e2e-coder-token", as)
	if code != 200 || !slices.Contains(noteCovers(item["edits"]), "icd10cm") {
		t.Fatalf("PUT codes with only FY2026 = %d, edits %v; want NO_RELEASE_FOR_DOS for icd10cm", code, item["edits"])
	}
	version := item["version"]

	loadICDVersion(t, url, "FY2027", fy27)
	deadline := time.Now().Add(90 * time.Second) // a bound on the wait, not a timing assertion
	for {
		_, item = apiCall(t, m, "GET", base, "e2e-coder-token")
		if slices.Contains(editCodes(item["edits"]), "DX_HEADER") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("edits never re-checked after FY2027 was loaded: %v", item["edits"])
		}
		time.Sleep(200 * time.Millisecond)
	}
	if slices.Contains(noteCovers(item["edits"]), "icd10cm") {
		t.Errorf("edits after the re-check %v still note no icd10cm release", item["edits"])
	}
	if item["version"] != version || item["status"] != "in_progress" {
		t.Errorf("after the re-check: version %v status %v; want version %v, in_progress", item["version"], item["status"], version)
	}
	if !strings.Contains(scrape(t, m), `codebridge_recheck_items_total{result="updated"} 1`) {
		t.Errorf("metrics lack one updated re-check")
	}
	if code, body := apiJSON(t, m, "PUT", base+"/codes", "e2e-coder-token", as, "If-Match", fmt.Sprintf(`W/"%v"`, version)); code != 200 {
		t.Errorf("PUT codes with If-Match of the version read before the re-check = %d %v", code, body)
	}
}
