package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/codebridge/codebridge/adapters/cmsfetch"
	"github.com/codebridge/codebridge/adapters/cmsfetch/cmsfetchtest"
	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
	"github.com/codebridge/codebridge/mapping/codes"
)

const (
	fetchCMZip  = "2027-code-descriptions-tabular-order.zip"
	fetchPCSZip = "2027-icd-10-pcs-order-file-long-abbreviated-titles.zip"
	fetchPOAZip = "2027-poa-exempt-codes.zip"
	fetchTabZip = cmsfetchtest.TabZip // 2027-code-tables-tabular-index.zip
)

// runFetch runs `codes fetch` on table against dbURL ("" for none).
func runFetch(t *testing.T, dbURL string, table cmsfetch.Table, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	env := map[string]string{"CODEBRIDGE_DATABASE_URL": dbURL}
	cmd := newCodesFetchCmdWith(func(k string) string { return env[k] }, &globalFlags{}, &out, &errOut, table, nil)
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err = cmd.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

// storedRelease returns the stored release of sys and version, if any.
func storedRelease(t *testing.T, dbURL string, sys codes.System, version string) *postgres.ReleaseInfo {
	t.Helper()
	db, err := postgres.Open(context.Background(), dbURL, postgres.Options{MaxOpenConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rels, err := postgres.NewCodeStore(db).ListReleases(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rels {
		if r.System == sys && r.Version == version {
			return &r
		}
	}
	return nil
}

func wantContains(t *testing.T, what, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s: %q\nwant it to contain %q", what, got, w)
		}
	}
}

// TestCodesFetchFY: `codes fetch --fy 2027` downloads, verifies and loads
// the four files (the Tabular List XML among them); a second run loads
// nothing, and fetches nothing where the table pins the member's digest.
func TestCodesFetchFY(t *testing.T) {
	dbURL := pgtest.NewURL(t)
	srv := cmsfetchtest.NewServer(t)
	fx := cmsfetchtest.NewFY2027(t, srv.Base())
	fx.Serve(srv)
	dir := t.TempDir()
	out, errOut, err := runFetch(t, dbURL, fx.Table, "--fy", "2027", "--dir", dir)
	if err != nil {
		t.Fatalf("fetch --fy 2027: %v\n%s\n%s", err, out, errOut)
	}
	wantContains(t, "first fetch", out,
		"verified "+fetchCMZip+" from "+srv.Base()+"/"+fetchCMZip+": "+strconv.Itoa(len(fx.CM))+" bytes, sha256 "+cmsfetchtest.SHA256(fx.CM)+" (the published digest)",
		"loaded icd10cm FY2027 (2026-10-01..2027-09-30): 12 records from icd10cm_order_2027.txt",
		"checked "+fetchPCSZip, "no published SHA-256 in codebridge's table", "sha256 "+cmsfetchtest.SHA256(fx.PCS), "record this digest",
		"loaded icd10pcs FY2027 (2026-10-01..2027-09-30): 8 records from icd10pcs_order_2027.txt",
		"loaded poaexempt FY2027 (2026-10-01..2027-09-30): 7 records from POAexemptCodesFY27.txt",
		"checked "+fetchTabZip+" from "+srv.Base()+"/"+fetchTabZip+": "+strconv.Itoa(len(fx.Tab))+" bytes (size not published), sha256 "+cmsfetchtest.SHA256(fx.Tab),
		"member Table and Index/icd10cm_tabular_2027.xml, "+strconv.Itoa(len(fx.TabMember))+" bytes, sha256 "+cmsfetchtest.SHA256(fx.TabMember)+", records of the shape of icd10cm-tabular",
		// 39 nodes and 61 notes
		"loaded icd10cm-tabular FY2027 (2026-10-01..2027-09-30): 122 records from icd10cm_tabular_2027.xml")
	if strings.Contains(out, "files not loaded") {
		t.Errorf("first fetch: %q", out)
	}
	wantContains(t, "first fetch stderr (not a terminal: plain lines)", errOut, "downloading "+srv.Base()+"/"+fetchCMZip, "downloaded "+fetchCMZip)
	if r := storedRelease(t, dbURL, codes.ICD10CM, "FY2027"); r == nil || r.SHA256 != cmsfetchtest.SHA256(fx.CMMember) || r.Source != "icd10cm_order_2027.txt" {
		t.Errorf("stored icd10cm FY2027: %+v; want the member's digest and name", r)
	}
	if r := storedRelease(t, dbURL, codes.ICD10CMTabular, "FY2027"); r == nil || r.SHA256 != cmsfetchtest.SHA256(fx.TabMember) ||
		r.Source != "icd10cm_tabular_2027.xml" || r.From.Format(time.DateOnly) != "2026-10-01" || r.To.Format(time.DateOnly) != "2027-09-30" {
		t.Errorf("stored icd10cm-tabular FY2027: %+v; want the member's digest and name, valid 2026-10-01..2027-09-30", r)
	}
	for _, name := range []string{fetchCMZip, fetchPCSZip, fetchPOAZip, fetchTabZip} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil || srv.Hits(name) != 1 {
			t.Errorf("%s: %v, %d requests; want it downloaded once and kept", name, err, srv.Hits(name))
		}
	}
	if srv.Total() != 4 {
		t.Errorf("%d requests; want 4", srv.Total())
	}
	for _, agent := range srv.Agents() {
		if !strings.HasPrefix(agent, "codebridge/") {
			t.Errorf("User-Agent %q", agent)
		}
	}

	// Again, into an empty directory: the ICD-10-CM release is known loaded
	// from its pinned member before any download; the others (the Tabular
	// List too: nothing pins it) are fetched and found unchanged by the
	// loader.
	out, errOut, err = runFetch(t, dbURL, fx.Table, "--fy", "2027", "--dir", t.TempDir())
	if err != nil {
		t.Fatalf("second fetch: %v\n%s\n%s", err, out, errOut)
	}
	wantContains(t, "second fetch", out,
		"icd10cm FY2027 (2026-10-01..2027-09-30) already loaded from the official icd10cm_order_2027.txt (sha256 "+cmsfetchtest.SHA256(fx.CMMember)+"); nothing fetched",
		"icd10pcs FY2027 (2026-10-01..2027-09-30) already loaded from identical content (8 records); nothing changed",
		"poaexempt FY2027 (2026-10-01..2027-09-30) already loaded from identical content (7 records); nothing changed",
		"icd10cm-tabular FY2027 (2026-10-01..2027-09-30) already loaded from identical content (122 records); nothing changed")
	if strings.Contains(out, "loaded icd10") || srv.Hits(fetchCMZip) != 1 || srv.Hits(fetchTabZip) != 2 || srv.Total() != 7 {
		t.Errorf("second fetch: %q, %d requests for the ICD-10-CM zip, %d for the Tabular List zip, %d in all; want no load, 3 more downloads",
			out, srv.Hits(fetchCMZip), srv.Hits(fetchTabZip), srv.Total())
	}
	if r := storedRelease(t, dbURL, codes.ICD10CMTabular, "FY2027"); r == nil || r.SHA256 != cmsfetchtest.SHA256(fx.TabMember) {
		t.Errorf("icd10cm-tabular FY2027 after the re-run: %+v", r)
	}
	// In the first directory the POA-exempt zip, pinned by its digest, is
	// used again without a request.
	out, _, err = runFetch(t, dbURL, fx.Table, "--fy", "2027", "--system", "poaexempt", "--dir", dir)
	if err != nil || srv.Hits(fetchPOAZip) != 2 || !strings.Contains(out, "using "+filepath.Join(dir, fetchPOAZip)+", downloaded before and verified again") {
		t.Errorf("fetch from the cache: %q, %v, %d requests", out, err, srv.Hits(fetchPOAZip))
	}
	out, _, err = runCodes(t, dbURL, "list")
	if err != nil || !strings.Contains(out, "FY2027") || !strings.Contains(out, "icd10cm_order_2027.txt") {
		t.Errorf("list: %q, %v", out, err)
	}
}

// TestCodesFetchRefuses: a wrong digest, a server error and a missing file
// load nothing and keep nothing; the other files of the year still load.
func TestCodesFetchRefuses(t *testing.T) {
	dbURL := pgtest.NewURL(t)
	srv := cmsfetchtest.NewServer(t)
	fx := cmsfetchtest.NewFY2027(t, srv.Base())
	fx.Serve(srv)
	fx.Table.Files[0].SHA256 = strings.Repeat("ab", 32)
	srv.SetMode(fetchPOAZip, cmsfetchtest.Fail500)
	dir := t.TempDir()
	out, _, err := runFetch(t, dbURL, fx.Table, "--fy", "2027", "--dir", dir)
	if err == nil {
		t.Fatalf("fetch with a wrong digest: %q; want an error", out)
	}
	wantContains(t, "error", err.Error(), "icd10cm FY2027: cmsfetch: "+fetchCMZip+" from "+srv.Base()+"/"+fetchCMZip+" refused, nothing kept",
		"the published one is "+strings.Repeat("ab", 32),
		"poaexempt FY2027: cmsfetch: GET "+srv.Base()+"/"+fetchPOAZip+": 500 Internal Server Error")
	wantContains(t, "output", out, "loaded icd10pcs FY2027", "loaded icd10cm-tabular FY2027", "2 of 4 files not loaded")
	if r := storedRelease(t, dbURL, codes.ICD10CM, "FY2027"); r != nil {
		t.Errorf("icd10cm FY2027 stored after a refused download: %+v", r)
	}
	if r := storedRelease(t, dbURL, codes.POAExemptList, "FY2027"); r != nil {
		t.Errorf("poaexempt FY2027 stored after a server error: %+v", r)
	}
	if es, _ := os.ReadDir(dir); len(es) != 2 || es[0].Name() != fetchTabZip || es[1].Name() != fetchPCSZip {
		t.Errorf("download directory holds %v; want only the PCS and Tabular List zips", es)
	}

	// A 404 (after the alternate spelling) loads and keeps nothing.
	fx.Table.Files[0].SHA256 = cmsfetchtest.SHA256(fx.CM)
	_, _, err = runFetch(t, dbURL, fx.Table, "--fy", "2026", "--system", "icd10pcs", "--dir", dir)
	if err == nil || !strings.Contains(err.Error(), "GET "+srv.Base()+"/2026-icd-10-pcs-order-file-long-and-abbreviated-titles.zip: 404 Not Found") ||
		!strings.Contains(err.Error(), "--url icd10pcs=URL") {
		t.Errorf("404: %v", err)
	}
	if r := storedRelease(t, dbURL, codes.ICD10CM, "FY2027"); r != nil {
		t.Errorf("icd10cm FY2027 stored: %+v", r)
	}
	if es, _ := os.ReadDir(dir); len(es) != 2 {
		t.Errorf("download directory holds %v", es)
	}

	// A truncated body loads nothing but keeps what came, and the next run
	// resumes it to a verified, loaded file.
	srv.SetMode(fetchCMZip, cmsfetchtest.Truncate)
	_, _, err = runFetch(t, dbURL, fx.Table, "--fy", "2027", "--system", "icd10cm", "--dir", dir)
	if err == nil || !strings.Contains(err.Error(), "broke off") || !strings.Contains(err.Error(), "run again to resume") {
		t.Errorf("truncated: %v", err)
	}
	if r := storedRelease(t, dbURL, codes.ICD10CM, "FY2027"); r != nil {
		t.Errorf("icd10cm FY2027 stored after a truncated download: %+v", r)
	}
	if _, err := os.Stat(filepath.Join(dir, fetchCMZip+".part")); err != nil {
		t.Errorf("part after a truncated download: %v", err)
	}
	srv.SetMode(fetchCMZip, cmsfetchtest.Serve)
	out, errOut, err := runFetch(t, dbURL, fx.Table, "--fy", "2027", "--system", "icd10cm", "--dir", dir)
	if err != nil || !strings.Contains(out, "loaded icd10cm FY2027") || !strings.Contains(errOut, "resuming at byte "+strconv.Itoa(len(fx.CM)/2)) {
		t.Errorf("rerun after the truncation: %q, %q, %v; want it resumed and loaded", out, errOut, err)
	}
}

// TestCodesFetchTabularFails: when the Tabular List zip cannot be had (a
// server error, then a 404 at both spellings) or is not a Tabular List,
// the other three files of the year still load, nothing of the Tabular
// List is stored or kept, and the command exits non-zero naming it.
func TestCodesFetchTabularFails(t *testing.T) {
	dbURL := pgtest.NewURL(t)
	srv := cmsfetchtest.NewServer(t)
	fx := cmsfetchtest.NewFY2027(t, srv.Base())
	fx.Serve(srv)
	srv.SetMode(fetchTabZip, cmsfetchtest.Fail500)
	dir := t.TempDir()
	out, _, err := runFetch(t, dbURL, fx.Table, "--fy", "2027", "--dir", dir)
	if err == nil {
		t.Fatalf("fetch with the Tabular List failing: %q; want an error", out)
	}
	wantContains(t, "error", err.Error(), "icd10cm-tabular FY2027: cmsfetch: GET "+srv.Base()+"/"+fetchTabZip+": 500 Internal Server Error")
	wantContains(t, "output", out, "loaded icd10cm FY2027", "loaded icd10pcs FY2027", "loaded poaexempt FY2027", "1 of 4 files not loaded")
	for _, sys := range []codes.System{codes.ICD10CM, codes.ICD10PCS, codes.POAExemptList} {
		if storedRelease(t, dbURL, sys, "FY2027") == nil {
			t.Errorf("%s FY2027 not stored", sys)
		}
	}
	if r := storedRelease(t, dbURL, codes.ICD10CMTabular, "FY2027"); r != nil {
		t.Errorf("icd10cm-tabular FY2027 stored after a server error: %+v", r)
	}

	// Not published under either spelling: a 404 naming the way out.
	srv.Put(fetchTabZip, nil, cmsfetchtest.Serve)
	srv2 := cmsfetchtest.NewServer(t)
	fx2 := cmsfetchtest.NewFY2027(t, srv2.Base())
	_, _, err = runFetch(t, dbURL, fx2.Table, "--fy", "2027", "--system", "icd10cm-tabular", "--dir", dir)
	if err == nil || !strings.Contains(err.Error(), "icd10cm-tabular FY2027") || !strings.Contains(err.Error(), "2027-code-tables-tabular-and-index.zip: 404 Not Found") ||
		!strings.Contains(err.Error(), "--url icd10cm-tabular=URL") || srv2.Hits(fetchTabZip) != 1 {
		t.Errorf("404: %v", err)
	}

	// Served, but its XML is not a Tabular List (an addenda file): refused by
	// the loader's checks before anything is kept.
	addenda := bytes.Replace(fx.TabMember, []byte("<ICD10CM.tabular>"), []byte(`<ICD10CM.tabular isAddenda="true">`), 1)
	srv.Put(fetchTabZip, cmsfetchtest.Zip(t, cmsfetchtest.Member{Name: "Table and Index/icd10cm_tabular_2027.xml", Data: addenda}), cmsfetchtest.Serve)
	out, _, err = runFetch(t, dbURL, fx.Table, "--fy", "2027", "--dir", dir)
	if err == nil || !strings.Contains(err.Error(), "icd10cm-tabular FY2027") || !strings.Contains(err.Error(), "an addenda file") ||
		!strings.Contains(out, "1 of 4 files not loaded") {
		t.Errorf("addenda: %q, %v", out, err)
	}
	if r := storedRelease(t, dbURL, codes.ICD10CMTabular, "FY2027"); r != nil {
		t.Errorf("icd10cm-tabular FY2027 stored: %+v", r)
	}
	if _, err := os.Stat(filepath.Join(dir, fetchTabZip)); !os.IsNotExist(err) {
		t.Errorf("refused Tabular List zip kept: %v", err)
	}
}

// TestCodesFetchReplacesADerivedRelease: an ICD-10-CM FY2027 release of
// other content (such as the one load-bundled derives from the addenda)
// gives way to the official file, and the output says so.
func TestCodesFetchReplacesADerivedRelease(t *testing.T) {
	dbURL := pgtest.NewURL(t)
	srv := cmsfetchtest.NewServer(t)
	fx := cmsfetchtest.NewFY2027(t, srv.Base())
	fx.Serve(srv)
	derived := filepath.Join(t.TempDir(), "icd10cm_order_2027.derived.txt")
	lines := strings.SplitAfter(string(fx.CMMember), "\n")
	if err := os.WriteFile(derived, []byte(strings.Join(lines[:len(lines)-2], "")), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, _, err := runCodes(t, dbURL, "load", "--system", "icd10cm", "--version", "FY2027", derived); err != nil {
		t.Fatalf("load: %q, %v", out, err)
	}
	old := storedRelease(t, dbURL, codes.ICD10CM, "FY2027")
	out, _, err := runFetch(t, dbURL, fx.Table, "--fy", "2027", "--system", "icd10cm", "--dir", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	wantContains(t, "fetch", out, "replacing icd10cm FY2027 (loaded from icd10cm_order_2027.derived.txt, sha256 "+old.SHA256+") with the official icd10cm_order_2027.txt",
		"loaded icd10cm FY2027 (2026-10-01..2027-09-30): 12 records")
	if r := storedRelease(t, dbURL, codes.ICD10CM, "FY2027"); r == nil || r.SHA256 != cmsfetchtest.SHA256(fx.CMMember) || r.Rows != 12 {
		t.Errorf("stored: %+v", r)
	}
}

// TestCodesFetchHCPCS: `--hcpcs 2027-01` loads the ANWEB workbook of the
// quarterly zip as hcpcs 2027-Jan.
func TestCodesFetchHCPCS(t *testing.T) {
	dbURL := pgtest.NewURL(t)
	srv := cmsfetchtest.NewServer(t)
	fx := cmsfetchtest.NewFY2027(t, srv.Base())
	fx.Serve(srv)
	out, _, err := runFetch(t, dbURL, fx.Table, "--hcpcs", "2027-01", "--dir", t.TempDir())
	if err != nil {
		t.Fatalf("%q: %v", out, err)
	}
	wantContains(t, "fetch", out, "checked january-2027-alpha-numeric-hcpcs-file.zip", "member HCPC2027_JAN_ANWEB_v2.xlsx",
		"loaded hcpcs 2027-Jan (2027-01-01..2027-03-31): 9 records from HCPC2027_JAN_ANWEB_v2.xlsx")
	if _, _, err := runFetch(t, dbURL, fx.Table, "--hcpcs", "2027-04", "--dir", t.TempDir()); err == nil ||
		!strings.Contains(err.Error(), "april-2027-alpha-numeric-hcpcs-files.zip: 404 Not Found") {
		t.Errorf("April (not published): %v; want a 404 after trying both spellings", err)
	}
}

// TestCodesFetchOfflineAndMirror: --file loads zips downloaded elsewhere
// (verified all the same) without a request; --url fetches from a mirror;
// --download-only needs no database.
func TestCodesFetchOfflineAndMirror(t *testing.T) {
	dbURL := pgtest.NewURL(t)
	srv := cmsfetchtest.NewServer(t)
	fx := cmsfetchtest.NewFY2027(t, srv.Base())
	media := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(media, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cm, pcs, poa := write(fetchCMZip, fx.CM), write("pcs-copy.zip", fx.PCS), write(fetchPOAZip, fx.POA)
	// The Tabular List zip under the spelling of the years before FY2027
	// is matched to its system by name all the same.
	tab := write("2027-code-tables-tabular-and-index.zip", fx.Tab)
	out, _, err := runFetch(t, dbURL, fx.Table, "--fy", "2027", "--file", cm, "--file", "icd10pcs="+pcs, "--file", poa, "--file", tab, "--dir", t.TempDir())
	if err != nil || srv.Total() != 0 {
		t.Fatalf("offline: %q, %v, %d requests", out, err, srv.Total())
	}
	wantContains(t, "offline", out, "verified "+fetchCMZip+": ", "loaded icd10cm FY2027", "loaded icd10pcs FY2027", "loaded poaexempt FY2027",
		"checked 2027-code-tables-tabular-and-index.zip: ", "loaded icd10cm-tabular FY2027 (2026-10-01..2027-09-30): 122 records from icd10cm_tabular_2027.xml")
	// The official FY2027 name, with only the Tabular List selected.
	tab = write(fetchTabZip, fx.Tab)
	out, _, err = runFetch(t, dbURL, fx.Table, "--fy", "2027", "--system", "icd10cm-tabular", "--file", tab, "--dir", t.TempDir())
	if err != nil || srv.Total() != 0 || !strings.Contains(out, "icd10cm-tabular FY2027 (2026-10-01..2027-09-30) already loaded from identical content (122 records)") {
		t.Errorf("offline, tabular only: %q, %v, %d requests", out, err, srv.Total())
	}
	// With all four files selected, the official name picks the system.
	if _, _, err := runFetch(t, dbURL, fx.Table, "--fy", "2027", "--file", tab, "--download-only", "--dir", t.TempDir(), "--system", "icd10cm-tabular,icd10pcs"); err == nil ||
		!strings.Contains(err.Error(), "icd10pcs FY2027") || strings.Contains(err.Error(), "icd10cm-tabular FY2027") {
		t.Errorf("--file by name: %v; want the tabular verified and the PCS download to fail", err)
	}
	// A file that is not the official one is refused.
	bad := write("2027-poa-exempt-codes-old.zip", fx.PCS)
	_, _, err = runFetch(t, dbURL, fx.Table, "--fy", "2027", "--system", "poaexempt", "--file", bad, "--dir", t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "--file "+bad+" refused") {
		t.Errorf("wrong --file: %v", err)
	}

	srv.Put("mirror-cm.zip", fx.CM, cmsfetchtest.Serve)
	dl := t.TempDir()
	out, _, err = runFetch(t, "", fx.Table, "--fy", "2027", "--system", "icd10cm", "--url", srv.Base()+"/mirror-cm.zip", "--download-only", "--dir", dl)
	if err != nil || srv.Hits("mirror-cm.zip") != 1 || !strings.Contains(out, "verified "+fetchCMZip+" from "+srv.Base()+"/mirror-cm.zip") {
		t.Errorf("mirror, download only: %q, %v", out, err)
	}
	if _, err := os.Stat(filepath.Join(dl, fetchCMZip)); err != nil {
		t.Errorf("download only: %v", err)
	}
	// A failure with --download-only is a file not downloaded (nothing is
	// loaded either way).
	srv.Put(fetchPOAZip, fx.POA, cmsfetchtest.Fail500)
	out, _, err = runFetch(t, "", fx.Table, "--fy", "2027", "--system", "poaexempt", "--download-only", "--dir", dl)
	if err == nil || !strings.Contains(out, "1 of 1 files not downloaded") || strings.Contains(out, "not loaded") {
		t.Errorf("download only, server error: %q, %v; want \"1 of 1 files not downloaded\"", out, err)
	}
}

func TestCodesFetchFlags(t *testing.T) {
	tab := cmsfetch.Table{BaseURL: "http://127.0.0.1:1/files/zip"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "give --fy YYYY"},
		{[]string{"--hcpcs", "2027-02"}, "quarterly"},
		{[]string{"--hcpcs", "202701"}, "want YYYY-MM"},
		{[]string{"--fy", "2027", "--url", "https://mirror/x.zip"}, "several files are selected (icd10cm, icd10pcs, poaexempt, icd10cm-tabular); write --url SYSTEM=https://mirror/x.zip"},
		{[]string{"--fy", "2027", "--url", "hcpcs=https://mirror/x.zip"}, "hcpcs is not among the selected files"},
		{[]string{"--fy", "2027", "--url", "snomed=https://mirror/x.zip"}, `"snomed" is not a system`},
		{[]string{"--fy", "2027", "--system", "hcpcs"}, "not among the selected files"},
		{[]string{"--fy", "2027", "--file", "/media/2027-code-tables-tabular-index.zip", "--file", "icd10cm-tabular=/media/x.zip"}, "--file: icd10cm-tabular given twice"},
		{[]string{"--fy", "2027", "--system", "icd10cm", "--url", "x", "--file", "y"}, "--url and --file both name icd10cm"},
		{[]string{"--fy", "1999"}, "fiscal years start with 2016"},
		{[]string{"--fy", "2027", "--dir", "/nonexistent"}, "CODEBRIDGE_DATABASE_URL"},
	} {
		out, _, err := runFetch(t, "", tab, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("fetch %v: %q, %v; want an error with %q", tc.args, out, err, tc.want)
		}
	}
}
