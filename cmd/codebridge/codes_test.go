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
	if err != nil || !strings.Contains(out, "icd10cm  FY2025   2024-10-01  2025-09-30  7") || strings.Count(out, "\n") != 2 {
		t.Errorf("list: %q, %v", out, err)
	}
	if _, _, err := runCodes(t, "", "list"); err == nil || !strings.Contains(err.Error(), "CODEBRIDGE_DATABASE_URL") {
		t.Errorf("list without a database: %v", err)
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
}
