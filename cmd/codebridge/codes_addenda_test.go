package main

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
	"github.com/codebridge/codebridge/mapping/codes"
)

// writeBundled writes an embedded file (or bundle) to dir under name.
func writeBundled(t *testing.T, dir, name string, open func() (io.ReadCloser, error)) string {
	t.Helper()
	rc, err := open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func bundleNamed(t *testing.T, system codes.System, version string) codes.Bundle {
	t.Helper()
	for _, b := range codes.Bundled() {
		if b.Release.System == system && b.Release.Version == version {
			return b
		}
	}
	t.Fatalf("no bundle %s %s", system, version)
	return codes.Bundle{}
}

// TestCodesLoadAddenda: `codes load --system icd10cm --version 2027
// --addenda FILE` derives FY2027 from the loaded FY2026 release and the
// official addenda, and stores exactly what load-bundled stores; every
// refusal leaves the releases as they were.
func TestCodesLoadAddenda(t *testing.T) {
	dbURL := pgtest.NewURL(t)
	dir := t.TempDir()
	addenda := writeBundled(t, dir, "icd10cm_order_addenda_2027.txt", func() (io.ReadCloser, error) {
		return codes.BundledFile("icd10cm_order_addenda_2027.txt")
	})
	fy26 := writeBundled(t, dir, "icd10cm_order_2026.txt", bundleNamed(t, codes.ICD10CM, "FY2026").Open)

	list := func() string {
		t.Helper()
		out, _, err := runCodes(t, dbURL, "list")
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	refused := func(want string, args ...string) {
		t.Helper()
		before := list()
		out, _, err := runCodes(t, dbURL, args...)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("codes %s = %q, %v; want an error containing %q", strings.Join(args, " "), out, err, want)
		}
		if after := list(); after != before {
			t.Errorf("codes %s changed the releases:\n%s\nnow\n%s", strings.Join(args, " "), before, after)
		}
	}
	// No base release.
	refused("load icd10cm FY2026 first", "load", "--system", "icd10cm", "--version", "2027", "--addenda", addenda)
	// Another system.
	refused("only an ICD-10-CM release can be derived", "load", "--system", "icd10pcs", "--version", "2027", "--addenda", addenda)
	// A FILE argument besides --addenda.
	refused("takes no FILE argument", "load", "--system", "icd10cm", "--version", "2027", "--addenda", addenda, fy26)

	if out, _, err := runCodes(t, dbURL, "load", "--system", "icd10cm", "--version", "FY2026", fy26); err != nil {
		t.Fatalf("load FY2026: %q, %v", out, err)
	}
	// Another target year than the addenda's footer names.
	refused("the addenda updates ICD-10-CM to FY2027", "load", "--system", "icd10cm", "--version", "2028", "--addenda", addenda)
	// Counts that do not match the footer.
	data, err := os.ReadFile(addenda)
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad_addenda.txt")
	if err := os.WriteFile(bad, []byte(strings.Replace(string(data), "  74879 codes in icd10cm_order_2027.txt", "  74880 codes in icd10cm_order_2027.txt", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	refused("the footer's Codes counts do not add up", "load", "--system", "icd10cm", "--version", "2027", "--addenda", bad)
	noFooter := filepath.Join(dir, "no_footer.txt")
	if err := os.WriteFile(noFooter, []byte(string(data)[:strings.Index(string(data), "Headers")]), 0o600); err != nil {
		t.Fatal(err)
	}
	refused("footer is missing", "load", "--system", "icd10cm", "--version", "2027", "--addenda", noFooter)

	out, _, err := runCodes(t, dbURL, "load", "--system", "icd10cm", "--version", "2027", "--addenda", addenda)
	if err != nil || !strings.Contains(out, "loaded icd10cm FY2027 (2026-10-01..2027-09-30): 98403 records (74879 billable) derived from icd10cm FY2026 with icd10cm_order_addenda_2027.txt") {
		t.Fatalf("load --addenda: %q, %v", out, err)
	}
	out, _, err = runCodes(t, dbURL, "load", "--system", "icd10cm", "--version", "FY2027", "--addenda", addenda)
	if err != nil || !strings.Contains(out, "already loaded from identical content (98403 records)") {
		t.Errorf("second load --addenda: %q, %v; want unchanged", out, err)
	}
	// The same content as the bundle load-bundled loads.
	b := bundleNamed(t, codes.ICD10CM, "FY2027")
	rc, err := b.Open()
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	_, err = io.Copy(h, rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	out = list()
	row := ""
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "FY2027") {
			row = strings.Join(strings.Fields(l), " ")
		}
	}
	if !strings.HasPrefix(row, "icd10cm FY2027 2026-10-01 2027-09-30 98403 74879 ") ||
		!strings.HasSuffix(row, " icd10cm_order_addenda_2027.txt applied to icd10cm_order_2026.txt") {
		t.Errorf("list: FY2027 row %q in\n%s", row, out)
	}
	if !strings.HasPrefix(strings.Join(strings.Fields(out), " "), "SYSTEM VERSION FROM TO ROWS BILLABLE LOADED SOURCE ") {
		t.Errorf("list header: %q", out)
	}
	store := codeStoreFor(t, dbURL)
	rels, err := store.ListReleases(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rels {
		if r.Version == "FY2027" && r.SHA256 != hex.EncodeToString(h.Sum(nil)) {
			t.Errorf("FY2027 stored from content %s, the bundle is %x", r.SHA256, h.Sum(nil))
		}
	}
}

// TestCodesLoadAddendaWrongBase: a FY2026 release that is not the order
// file the addenda's footer counts is refused as the wrong base.
func TestCodesLoadAddendaWrongBase(t *testing.T) {
	dbURL := pgtest.NewURL(t)
	dir := t.TempDir()
	addenda := writeBundled(t, dir, "icd10cm_order_addenda_2027.txt", func() (io.ReadCloser, error) {
		return codes.BundledFile("icd10cm_order_addenda_2027.txt")
	})
	extract := filepath.Join("..", "..", "testdata", "codesets", "icd10cm_order_2025_extract.txt")
	if out, _, err := runCodes(t, dbURL, "load", "--system", "icd10cm", "--version", "FY2026", extract); err != nil {
		t.Fatalf("load: %q, %v", out, err)
	}
	out, _, err := runCodes(t, dbURL, "load", "--system", "icd10cm", "--version", "2027", "--addenda", addenda)
	if err == nil || !strings.Contains(err.Error(), "wrong base: icd10cm FY2026 has") || !strings.Contains(err.Error(), "nothing changed") {
		t.Errorf("load --addenda on a 7-record FY2026: %q, %v; want a wrong-base refusal", out, err)
	}
	if out, _, _ := runCodes(t, dbURL, "list"); strings.Contains(out, "FY2027") {
		t.Errorf("FY2027 stored after a refusal:\n%s", out)
	}
}

// codeStoreFor opens a CodeStore on dbURL for the test.
func codeStoreFor(t *testing.T, dbURL string) *postgres.CodeStore {
	t.Helper()
	db, err := postgres.Open(t.Context(), dbURL, postgres.Options{MaxOpenConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return postgres.NewCodeStore(db)
}
