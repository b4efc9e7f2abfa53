package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
)

// runCodes runs `codebridge codes ...` against dbURL.
func runCodes(t *testing.T, dbURL string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	env := map[string]string{"CODEBRIDGE_DATABASE_URL": dbURL}
	cmd := newRootCmd(func(k string) string { return env[k] }, &out, &errOut)
	cmd.SetArgs(append([]string{"codes"}, args...))
	err = cmd.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

func TestCodesCommands(t *testing.T) {
	dbURL := pgtest.NewURL(t)
	extract := filepath.Join("..", "..", "testdata", "codesets", "icd10cm_order_2025_extract.txt")
	out, _, err := runCodes(t, dbURL, "load", "--system", "icd10cm", "--version", "FY2025", extract)
	if err != nil || !strings.Contains(out, "loaded icd10cm FY2025 (2024-10-01..2025-09-30): 7 records from icd10cm_order_2025_extract.txt") {
		t.Fatalf("load: %q, %v", out, err)
	}
	out, _, err = runCodes(t, dbURL, "load", "--system", "icd10cm", "--version", "FY2025", extract)
	if err != nil || !strings.Contains(out, "already loaded") {
		t.Errorf("second load: %q, %v", out, err)
	}
	out, _, err = runCodes(t, dbURL, "load", "--system", "icd10cm", "--version", "2025", extract)
	if err != nil || !strings.Contains(out, "icd10cm FY2025 (2024-10-01..2025-09-30) already loaded from identical content (7 records); nothing changed") {
		t.Errorf("load as --version 2025: %q, %v; want the FY2025 release unchanged", out, err)
	}
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.txt")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, err = runCodes(t, dbURL, "load", "--system", "icd10cm", "--version", "FY2026", empty)
	if err == nil || !strings.Contains(err.Error(), "empty.txt not loaded as icd10cm FY2026; nothing changed") ||
		!strings.Contains(err.Error(), "no records") || strings.Contains(out, "already loaded") {
		t.Errorf("load of an empty file: %q, %v; want a no-records error", out, err)
	}
	out, _, err = runCodes(t, dbURL, "load", "--system", "ptp", "--version", "2026Q1", extract)
	if err == nil || !strings.Contains(err.Error(), "icd10cm_order_2025_extract.txt not loaded as ptp 2026Q1") {
		t.Errorf("ICD-10-CM order file as ptp: %q, %v; want an error", out, err)
	}
	pcs := filepath.Join(dir, "pcs.txt")
	// The first lines of the FY2026 ICD-10-PCS order file.
	pcsLines := "00001 001     0 Central Nervous System and Cranial Nerves, Bypass            Central Nervous System and Cranial Nerves, Bypass\r\n" +
		"00002 0016070 1 Bypass Cereb Vent to Nasophar with Autol Sub, Open Approach  Bypass Cerebral Ventricle to Nasopharynx with Autologous Tissue Substitute, Open Approach\r\n" +
		"00003 0016071 1 Bypass Cereb Vent to Mastoid Sinus w Autol Sub, Open         Bypass Cerebral Ventricle to Mastoid Sinus with Autologous Tissue Substitute, Open Approach\r\n"
	if err := os.WriteFile(pcs, []byte(pcsLines), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, _, err := runCodes(t, dbURL, "load", "--system", "icd10pcs", "--version", "FY2026", pcs); err != nil {
		t.Fatalf("load PCS lines as icd10pcs: %q, %v", out, err)
	}
	out, _, err = runCodes(t, dbURL, "load", "--system", "icd10cm", "--version", "FY2026", pcs)
	if err == nil || !strings.Contains(err.Error(), "not a icd10cm file") {
		t.Errorf("ICD-10-PCS order file as icd10cm: %q, %v; want a wrong-shape error", out, err)
	}
	bad := filepath.Join(t.TempDir(), "bad.txt")
	if err := os.WriteFile(bad, []byte("this is not an order file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"load", "--system", "icd10cm", "--version", "FY2025", bad},
		{"load", "--system", "snomed", "--version", "FY2025", extract},
		{"load", "--system", "icd10cm", "--version", "2025Q9", extract},
		{"load", "--system", "icd10cm", "--version", "FY2025", "no-such-file.txt"},
		{"load", "--system", "icd10cm", extract},
	} {
		if out, _, err := runCodes(t, dbURL, args...); err == nil {
			t.Errorf("codes %s: %q, want an error", strings.Join(args, " "), out)
		}
	}
	out, _, err = runCodes(t, dbURL, "list")
	if err != nil || !strings.Contains(out, "icd10cm   FY2025   2024-10-01  2025-09-30  7") || strings.Count(out, "\n") != 3 {
		t.Errorf("list: %q, %v", out, err)
	}
	if _, _, err := runCodes(t, "", "list"); err == nil || !strings.Contains(err.Error(), "CODEBRIDGE_DATABASE_URL") {
		t.Errorf("list without a database: %v", err)
	}
}

// TestCodesLoadBundled: `codes load-bundled` loads every bundled set,
// the 2026 Q2 practitioner MUE extract included, and a second run loads
// nothing.
func TestCodesLoadBundled(t *testing.T) {
	dbURL := pgtest.NewURL(t)
	out, _, err := runCodes(t, dbURL, "load-bundled")
	if err != nil || !strings.Contains(out, "loaded mue 2026Q2 (2026-04-01..2026-06-30): 9637 records from mue_practitioner_2026q2_dos_only.json") ||
		!strings.Contains(out, "loaded icd10cm FY2026") ||
		!strings.Contains(out, "loaded icd10cm FY2027 (2026-10-01..2027-09-30): 98403 records from icd10cm_order_addenda_2027.txt applied to icd10cm_order_2026.txt") {
		t.Fatalf("load-bundled: %q, %v; want the MUE extract and ICD-10-CM FY2026 and FY2027 loaded", out, err)
	}
	out, _, err = runCodes(t, dbURL, "load-bundled")
	if err != nil || !strings.Contains(out, "every bundled code set is already loaded") {
		t.Errorf("second load-bundled: %q, %v", out, err)
	}
	out, _, err = runCodes(t, dbURL, "list")
	if err != nil || !strings.Contains(out, "mue") || !strings.Contains(out, "2026Q2") {
		t.Errorf("list after load-bundled: %q, %v; want the mue 2026Q2 release", out, err)
	}
	// codes list: validity, rows and billable codes of each release.
	for _, want := range []string{
		"icd10cm FY2027 2026-10-01 2027-09-30 98403 74879 ",
		"icd10cm FY2026 2025-10-01 2026-09-30 98186 74719 ",
		"mue 2026Q2 2026-04-01 2026-06-30 9637 - ",
	} {
		if !strings.Contains(strings.Join(strings.Fields(strings.ReplaceAll(out, "\n", " | ")), " "), want) {
			t.Errorf("list after load-bundled: no row %q in\n%s", want, out)
		}
	}
}

func TestCodeSearchRouteInMain(t *testing.T) {
	dbURL := pgtest.NewURL(t)
	extract := filepath.Join("..", "..", "testdata", "codesets", "icd10cm_order_2025_extract.txt")
	if _, _, err := runCodes(t, dbURL, "load", "--system", "icd10cm", "--version", "FY2025", extract); err != nil {
		t.Fatal(err)
	}
	m := startMain(t, dbURL)
	status, body := get(t, m, "/api/v1/codes/search?q=J209&date=2025-06-01", "e2e-coder-token")
	var got struct {
		Results []struct {
			Code     string `json:"code"`
			Display  string `json:"display"`
			Billable bool   `json:"billable"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(body), &got); status != 200 || err != nil || len(got.Results) == 0 ||
		got.Results[0].Code != "J20.9" || got.Results[0].Display != "Acute bronchitis, unspecified" || !got.Results[0].Billable {
		t.Errorf("search J209: %d %s", status, body)
	}
	if status, _ := get(t, m, "/api/v1/codes/search?q=J209", "e2e-ehr-token"); status != 403 {
		t.Errorf("search as ehr: %d, want 403", status)
	}
	// The release list counts the billable codes (4 of the 7 records of
	// the extract; CONTRACT section 4).
	if status, body := get(t, m, "/api/v1/codes/releases", "e2e-coder-token"); status != 200 ||
		!strings.Contains(body, `"system":"icd10cm","version":"FY2025","validFrom":"2024-10-01","validTo":"2025-09-30"`) ||
		!strings.Contains(body, `"rows":7,"billable":4`) {
		t.Errorf("releases: %d %s", status, body)
	}
}

// hcpcsTerminated is the HCPCS 2025-Oct file cut to A4397 (terminated
// 2021-12-31) and J1885 (in force).
const hcpcsTerminated = `HCPC,SEQNUM,RECID,LONG DESCRIPTION,SHORT DESCRIPTION,PRICE1,PRICE2,PRICE3,PRICE4,MULT_PI,CIM1,CIM2,CIM3,MCM1,MCM2,MCM3,STATUTE,LABCERT1,LABCERT2,LABCERT3,LABCERT4,LABCERT5,LABCERT6,LABCERT7,LABCERT8,XREF1,XREF2,XREF3,XREF4,XREF5,COV,ASC_GRP,ASC_DT,OPPS,OPPS_PI,OPPS_DT,PROCNOTE,BETOS,TOS1,TOS2,TOS3,TOS4,TOS5,ANEST_BU,ADD DT,ACT EFF DT,TERM DT,ACTION CD
A4397,0010,3,"Irrigation supply; sleeve, each",Irrigation supply sleeve,37,,,,A,,,,2130,,,,,,,,,,,,,,,,,D,,,,,,,D1F,P,,,,,  0,19900101,20220101,20211231,N
J1885,0010,3,"Injection, ketorolac tromethamine, per 15 mg",Ketorolac tromethamine inj,51,,,,A,,,,2049,,,,,,,,,,,,,,,,,D,YY,20250101,,,,,O1E,1,P,,,,  0,19930101,20250101,,N
`

// TestCodeSearchTerminatedInMain: a HCPCS code terminated before the date
// asked is "billable": false with its "terminated" date (issue #17).
func TestCodeSearchTerminatedInMain(t *testing.T) {
	dbURL := pgtest.NewURL(t)
	file := filepath.Join(t.TempDir(), "hcpcs.csv")
	if err := os.WriteFile(file, []byte(hcpcsTerminated), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCodes(t, dbURL, "load", "--system", "hcpcs", "--version", "2025-Oct", file); err != nil {
		t.Fatal(err)
	}
	m := startMain(t, dbURL)
	for q, want := range map[string]string{
		"A4397": `"code":"A4397","display":"Irrigation supply; sleeve, each","billable":false,"terminated":"2021-12-31"}`,
		"J1885": `"code":"J1885","display":"Injection, ketorolac tromethamine, per 15 mg","billable":true}`,
	} {
		status, body := get(t, m, "/api/v1/codes/search?system=hcpcs&q="+q+"&date=2025-11-14", "e2e-coder-token")
		if status != 200 || !strings.Contains(body, want) {
			t.Errorf("search %s: %d %s; want %s", q, status, body, want)
		}
	}
}
