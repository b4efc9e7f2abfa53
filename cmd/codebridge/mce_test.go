package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
)

// TestCodesLoadMCE: `codes load --system mce --version 43.1 FILE` reads the
// CMS text layout of "Definitions of Medicare Code Edits" and stores it as
// MCE v43.1 (discharges 2026-04-01..2026-09-30); a bad version label or a
// file that is not an MCE file is refused with nothing stored.
func TestCodesLoadMCE(t *testing.T) {
	dbURL := pgtest.NewURL(t)
	text := filepath.Join("..", "..", "testdata", "codesets", "mce_definitions_v43_1_text_layout_extract.txt")
	out, _, err := runCodes(t, dbURL, "load", "--system", "mce", "--version", "43.1", text)
	if err != nil || !strings.Contains(out, "loaded mce v43.1 (2026-04-01..2026-09-30): 20 records from mce_definitions_v43_1_text_layout_extract.txt") {
		t.Fatalf("load: %q, %v", out, err)
	}
	bad := filepath.Join(t.TempDir(), "not-mce.txt")
	if err := os.WriteFile(bad, []byte("Definitions of Medicare Code Edits\r\n4. Age conflict\r\nB. Pediatric diagnoses\r\nA4851\tInfant botulism\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, err = runCodes(t, dbURL, "load", "--system", "mce", "--version", "44", bad)
	if err == nil || !strings.Contains(err.Error(), "not-mce.txt not loaded as mce v44; nothing changed") || !strings.Contains(err.Error(), "no age range") {
		t.Errorf("load of a list without its age range: %q, %v", out, err)
	}
	if out, _, err := runCodes(t, dbURL, "load", "--system", "mce", "--version", "44", text); err == nil || !strings.Contains(err.Error(), `the file is MCE version "43.1"`) {
		t.Errorf("the v43.1 text loaded as v44: %q, %v; want the version refused", out, err)
	}
	if out, _, err := runCodes(t, dbURL, "load", "--system", "mce", "--version", "43.2", text); err == nil || !strings.Contains(err.Error(), "--version") {
		t.Errorf("--version 43.2: %q, %v; want a version error", out, err)
	}
	out, _, err = runCodes(t, dbURL, "list")
	if err != nil || !strings.Contains(out, "mce     v43.1    2026-04-01  2026-09-30  20") || strings.Contains(out, "v44") {
		t.Errorf("list: %q, %v", out, err)
	}
}
