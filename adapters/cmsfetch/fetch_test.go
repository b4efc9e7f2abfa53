package cmsfetch_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/codebridge/codebridge/adapters/cmsfetch"
	"github.com/codebridge/codebridge/adapters/cmsfetch/cmsfetchtest"
	"github.com/codebridge/codebridge/mapping/codes"
)

const (
	cmZip  = "2027-code-descriptions-tabular-order.zip"
	pcsZip = "2027-icd-10-pcs-order-file-long-abbreviated-titles.zip"
	poaZip = "2027-poa-exempt-codes.zip"
)

// setup starts a server with the FY2027 fixtures and a fetcher on a fresh
// directory.
func setup(t *testing.T) (*cmsfetchtest.Server, *cmsfetchtest.FY2027, *cmsfetch.Fetcher, *bytes.Buffer) {
	t.Helper()
	srv := cmsfetchtest.NewServer(t)
	fx := cmsfetchtest.NewFY2027(t, srv.Base())
	fx.Serve(srv)
	var log bytes.Buffer
	return srv, fx, &cmsfetch.Fetcher{Dir: t.TempDir(), UserAgent: "codebridge-test", Log: &log}, &log
}

// dirFiles lists the names in dir.
func dirFiles(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

func TestFetchVerifiedAndExtract(t *testing.T) {
	srv, fx, fe, log := setup(t)
	f := fx.File(t, codes.ICD10CM)
	res, err := fe.Fetch(context.Background(), f, "")
	if err != nil {
		t.Fatal(err)
	}
	if res.Path != filepath.Join(fe.Dir, cmZip) || !res.Check.Pinned || res.Check.SHA256 != f.SHA256 ||
		res.Check.Member != "Code Descriptions/icd10cm_order_2027.txt" || res.Check.MemberSHA256 != f.MemberSHA256 {
		t.Errorf("result %+v", res)
	}
	if got := dirFiles(t, fe.Dir); !slices.Equal(got, []string{cmZip}) {
		t.Errorf("download directory holds %v, want only the zip", got)
	}
	if !strings.Contains(log.String(), "downloading "+srv.Base()+"/"+cmZip) || !strings.Contains(log.String(), "downloaded "+cmZip) {
		t.Errorf("log %q: want plain start and end lines", log.String())
	}
	if got := srv.Agents(); len(got) != 1 || got[0] != "codebridge-test" {
		t.Errorf("User-Agent %v", got)
	}
	out, err := cmsfetch.Extract(res.Path, f, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(out); filepath.Base(out) != "icd10cm_order_2027.txt" || !bytes.Equal(b, fx.CMMember) {
		t.Errorf("extracted %s: %d bytes, want the order file", out, len(b))
	}
	// A verified copy in the directory is used again without a request.
	if res, err := fe.Fetch(context.Background(), f, ""); err != nil || res.URL != "" || srv.Hits(cmZip) != 1 {
		t.Errorf("second fetch: %+v, %v, %d requests; want the copy reused", res, err, srv.Hits(cmZip))
	}
}

func TestFetchHashMismatchKeepsNothing(t *testing.T) {
	srv, fx, fe, _ := setup(t)
	f := fx.File(t, codes.ICD10CM)
	f.SHA256 = strings.Repeat("0", 64)
	_, err := fe.Fetch(context.Background(), f, "")
	if !errors.Is(err, cmsfetch.ErrMismatch) || !strings.Contains(err.Error(), "refused, nothing kept") ||
		!strings.Contains(err.Error(), "the published one is "+f.SHA256) {
		t.Errorf("err %v; want a refused mismatch naming both digests", err)
	}
	if got := dirFiles(t, fe.Dir); len(got) != 0 {
		t.Errorf("download directory holds %v after a mismatch", got)
	}
	// A wrong member digest (the zip itself not pinned) is refused too.
	f = fx.File(t, codes.ICD10CM)
	f.SHA256, f.MemberSHA256 = "", strings.Repeat("1", 64)
	if _, err := fe.Fetch(context.Background(), f, ""); !errors.Is(err, cmsfetch.ErrMismatch) || !strings.Contains(err.Error(), "member") {
		t.Errorf("member mismatch: %v", err)
	}
	if got := dirFiles(t, fe.Dir); len(got) != 0 || srv.Hits(cmZip) != 2 {
		t.Errorf("download directory holds %v; %d requests", got, srv.Hits(cmZip))
	}
}

// TestFetchTruncatedResumes: a body cut short (the connection dropped)
// keeps its .part and the validator of its response; the next run asks for
// the rest with Range and If-Range and ends with a verified file.
func TestFetchTruncatedResumes(t *testing.T) {
	srv, fx, fe, log := setup(t)
	for _, tc := range []struct {
		sys  codes.System
		name string
		data []byte
	}{{codes.ICD10CM, cmZip, fx.CM}, {codes.ICD10PCS, pcsZip, fx.PCS}} { // size known / unknown
		fe.Dir = t.TempDir()
		srv.SetMode(tc.name, cmsfetchtest.Truncate)
		f := fx.File(t, tc.sys)
		half := int64(len(tc.data) / 2)
		part := filepath.Join(fe.Dir, tc.name+".part")
		_, err := fe.Fetch(context.Background(), f, "")
		if err == nil || !strings.Contains(err.Error(), "broke off") ||
			!strings.Contains(err.Error(), strconv.FormatInt(half, 10)+" bytes kept in "+part+", run again to resume") {
			t.Errorf("%s: err %v; want a download that broke off, the part kept", tc.sys, err)
		}
		if got := dirFiles(t, fe.Dir); !slices.Equal(got, []string{tc.name + ".part", tc.name + ".part.meta"}) {
			t.Errorf("%s: download directory holds %v after a truncated body; want the part and its meta", tc.sys, got)
		}
		if st, err := os.Stat(part); err != nil || st.Size() != half {
			t.Errorf("%s: part %v, %v; want the %d bytes received", tc.sys, st, err, half)
		}
		srv.SetMode(tc.name, cmsfetchtest.Serve)
		res, err := fe.Fetch(context.Background(), f, "")
		if err != nil || res.Resumed != half || res.Check.SHA256 != cmsfetchtest.SHA256(tc.data) {
			t.Fatalf("%s: rerun: %+v, %v; want it resumed at %d and verified", tc.sys, res, err, half)
		}
		r, ifr := srv.Ranges(), srv.IfRanges()
		if r[len(r)-1] != "bytes="+strconv.FormatInt(half, 10)+"-" || ifr[len(ifr)-1] != cmsfetchtest.ETag(tc.data) {
			t.Errorf("%s: Range %q, If-Range %q; want the rest asked for on the condition of the first response's ETag", tc.sys, r, ifr)
		}
		if got := dirFiles(t, fe.Dir); !slices.Equal(got, []string{tc.name}) {
			t.Errorf("%s: download directory holds %v; want the zip and no part", tc.sys, got)
		}
	}
	if !strings.Contains(log.String(), "resuming at byte") {
		t.Errorf("log %q", log.String())
	}

	// A truncated resume of a pinned file whose kept bytes are wrong: the
	// complete download fails its digest and is deleted.
	fe.Dir = t.TempDir()
	srv.SetMode(cmZip, cmsfetchtest.Truncate)
	f := fx.File(t, codes.ICD10CM)
	if _, err := fe.Fetch(context.Background(), f, ""); err == nil {
		t.Fatal("truncated: want an error")
	}
	part := filepath.Join(fe.Dir, cmZip+".part")
	if err := os.WriteFile(part, bytes.Repeat([]byte{'x'}, len(fx.CM)/2), 0o644); err != nil {
		t.Fatal(err)
	}
	srv.SetMode(cmZip, cmsfetchtest.Serve)
	if _, err := fe.Fetch(context.Background(), f, ""); !errors.Is(err, cmsfetch.ErrMismatch) || !strings.Contains(err.Error(), "refused, nothing kept") {
		t.Errorf("bad prefix resumed: %v; want a refused mismatch", err)
	}
	if got := dirFiles(t, fe.Dir); len(got) != 0 {
		t.Errorf("download directory holds %v after a mismatch", got)
	}

	// A server announcing another length than the official size is refused
	// before the body is read.
	srv.Put(cmZip, append(bytes.Clone(fx.CM), 0), cmsfetchtest.Serve)
	if _, err := fe.Fetch(context.Background(), fx.File(t, codes.ICD10CM), ""); !errors.Is(err, cmsfetch.ErrMismatch) ||
		!strings.Contains(err.Error(), "announces") {
		t.Errorf("longer body: %v", err)
	}
	if got := dirFiles(t, fe.Dir); len(got) != 0 {
		t.Errorf("download directory holds %v", got)
	}
}

// TestFetchRepostedFileIsNotAppended: a file the publisher replaced
// between the interruption and the rerun is downloaded anew (If-Range
// answers 200), not appended to the old prefix; a server that ignores
// If-Range is caught by the ETag of its 206.
func TestFetchRepostedFileIsNotAppended(t *testing.T) {
	srv, fx, fe, log := setup(t)
	f := fx.File(t, codes.ICD10PCS) // no digest: only the structure would tell
	reposted := cmsfetchtest.Zip(t, cmsfetchtest.Member{Name: "icd10pcs_order_2027.txt", Data: fx.PCSMember},
		cmsfetchtest.Member{Name: "readme_corrected.txt", Data: []byte("corrected\r\n")})
	for _, mode := range []cmsfetchtest.Mode{cmsfetchtest.Serve, cmsfetchtest.IgnoreIfRange} {
		fe.Dir = t.TempDir()
		srv.Put(pcsZip, fx.PCS, cmsfetchtest.Truncate)
		if _, err := fe.Fetch(context.Background(), f, ""); err == nil || !strings.Contains(err.Error(), "run again to resume") {
			t.Fatalf("truncated: %v", err)
		}
		srv.Put(pcsZip, reposted, mode)
		res, err := fe.Fetch(context.Background(), f, "")
		if err != nil || res.Resumed != 0 || res.Check.SHA256 != cmsfetchtest.SHA256(reposted) {
			t.Errorf("mode %d: rerun after a re-post: %+v, %v; want the new file downloaded from byte 0", mode, res, err)
		}
		if got := dirFiles(t, fe.Dir); !slices.Equal(got, []string{pcsZip}) {
			t.Errorf("mode %d: download directory holds %v", mode, got)
		}
	}
	if !strings.Contains(log.String(), "answered with the whole file (it changed since the "+strconv.Itoa(len(fx.PCS)/2)+" bytes kept were downloaded") {
		t.Errorf("log %q; want the restart said", log.String())
	}
	// A part without a remembered validator (no meta) is not resumed.
	fe.Dir = t.TempDir()
	if err := os.WriteFile(filepath.Join(fe.Dir, pcsZip+".part"), fx.PCS[:len(fx.PCS)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	srv.Put(pcsZip, fx.PCS, cmsfetchtest.Serve)
	n := len(srv.Ranges())
	if res, err := fe.Fetch(context.Background(), f, ""); err != nil || res.Resumed != 0 || srv.Ranges()[n] != "" {
		t.Errorf("part without meta: %+v, %v, Range %q; want a download from byte 0", res, err, srv.Ranges()[n:])
	}
}

func TestFetchHTTPErrors(t *testing.T) {
	srv, fx, fe, log := setup(t)
	srv.SetMode(poaZip, cmsfetchtest.Fail500)
	_, err := fe.Fetch(context.Background(), fx.File(t, codes.POAExemptList), "")
	if err == nil || !strings.Contains(err.Error(), "GET "+srv.Base()+"/"+poaZip+": 500 Internal Server Error") {
		t.Errorf("500: %v; want the URL and the status", err)
	}
	f := fx.File(t, codes.ICD10PCS)
	f.URL, f.Name = srv.Base()+"/no-such.zip", "no-such.zip"
	f.Alternates = []string{srv.Base() + "/also-missing.zip"}
	_, err = fe.Fetch(context.Background(), f, "")
	if !errors.Is(err, cmsfetch.ErrNotFound) || !strings.Contains(err.Error(), "GET "+srv.Base()+"/also-missing.zip: 404 Not Found") ||
		!strings.Contains(err.Error(), "--url icd10pcs=URL") {
		t.Errorf("404: %v; want the URL, the status and the --url hint", err)
	}
	if srv.Hits("no-such.zip") != 1 || srv.Hits("also-missing.zip") != 1 || !strings.Contains(log.String(), "trying "+srv.Base()+"/also-missing.zip") {
		t.Errorf("want the alternate tried after the 404; log %q", log.String())
	}
	// The alternate is used when the first address is gone.
	f.Alternates = []string{srv.Base() + "/" + pcsZip}
	if res, err := fe.Fetch(context.Background(), f, ""); err != nil || res.URL != srv.Base()+"/"+pcsZip {
		t.Errorf("alternate: %+v, %v", res, err)
	}
	if got := dirFiles(t, fe.Dir); !slices.Equal(got, []string{"no-such.zip"}) {
		t.Errorf("download directory holds %v", got)
	}
}

// cancelAfter is a progress writer that cancels a download once n bytes
// went through, standing for an operator's Ctrl-C.
type cancelAfter struct {
	n      int64
	seen   int64
	cancel context.CancelFunc
}

func (c *cancelAfter) Write(p []byte) (int, error) {
	c.seen += int64(len(p))
	if c.seen >= c.n {
		c.cancel()
	}
	return len(p), nil
}

func TestFetchResumesAnInterruptedDownload(t *testing.T) {
	srv, fx, fe, log := setup(t)
	f := fx.File(t, codes.ICD10CM)
	// A server that sends half and then waits for the client to go away.
	half := len(fx.CM) / 2
	srv.SetMode(cmZip, cmsfetchtest.Stall)
	ctx, cancel := context.WithCancel(context.Background())
	fe.Progress = func(name string, total, have int64) (io.Writer, func()) {
		if name != cmZip || total != f.Size || have != 0 {
			t.Errorf("progress(%q, %d, %d)", name, total, have)
		}
		return &cancelAfter{n: int64(half), cancel: cancel}, func() {}
	}
	_, err := fe.Fetch(ctx, f, "")
	if err == nil || !strings.Contains(err.Error(), "run again to resume") {
		t.Fatalf("interrupted fetch: %v", err)
	}
	part := filepath.Join(fe.Dir, cmZip+".part")
	st, err := os.Stat(part)
	if err != nil || st.Size() == 0 || st.Size() >= int64(len(fx.CM)) {
		t.Fatalf("part after the interruption: %v, %v; want a partial download kept", st, err)
	}
	kept := st.Size()
	fe.Progress = nil
	srv.SetMode(cmZip, cmsfetchtest.Serve)
	res, err := fe.Fetch(context.Background(), f, "")
	if err != nil || res.Resumed != kept {
		t.Fatalf("resumed fetch: %+v, %v; want it resumed at %d", res, err, kept)
	}
	if r := srv.Ranges(); r[len(r)-1] != "bytes="+strconv.FormatInt(kept, 10)+"-" {
		t.Errorf("Range headers %q", r)
	}
	if !strings.Contains(log.String(), "resuming at byte") {
		t.Errorf("log %q", log.String())
	}
	if got := dirFiles(t, fe.Dir); !slices.Equal(got, []string{cmZip}) {
		t.Errorf("download directory holds %v", got)
	}

	// A server that ignores Range gets the whole file again; a .part that
	// does not match is overwritten, not appended to.
	if err := os.Remove(res.Path); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(part, []byte("garbage that is not the start of the zip"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv.SetMode(cmZip, cmsfetchtest.IgnoreRange)
	if res, err := fe.Fetch(context.Background(), f, ""); err != nil || res.Resumed != 0 {
		t.Errorf("fetch from a server ignoring Range: %+v, %v", res, err)
	}
	// A resumed .part whose start is wrong fails verification and is
	// deleted.
	if err := os.Remove(res.Path); err != nil {
		t.Fatal(err)
	}
	srv.SetMode(cmZip, cmsfetchtest.Stall)
	ctx, cancel = context.WithCancel(context.Background())
	fe.Progress = func(string, int64, int64) (io.Writer, func()) {
		return &cancelAfter{n: int64(half), cancel: cancel}, func() {}
	}
	if _, err := fe.Fetch(ctx, f, ""); err == nil {
		t.Fatal("interrupted again: want an error")
	}
	fe.Progress = nil
	st, err = os.Stat(part)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(part, bytes.Repeat([]byte{'x'}, int(st.Size())), 0o644); err != nil {
		t.Fatal(err)
	}
	srv.SetMode(cmZip, cmsfetchtest.Serve)
	if _, err := fe.Fetch(context.Background(), f, ""); !errors.Is(err, cmsfetch.ErrMismatch) {
		t.Errorf("bad prefix resumed: %v; want a mismatch", err)
	}
	if got := dirFiles(t, fe.Dir); len(got) != 0 {
		t.Errorf("download directory holds %v", got)
	}
}

func TestVerifyStructureWithoutDigest(t *testing.T) {
	srv, fx, fe, _ := setup(t)
	// PCS: no digest; checked by structure and shape, the digest reported.
	f := fx.File(t, codes.ICD10PCS)
	res, err := fe.Fetch(context.Background(), f, "")
	if err != nil || res.Check.Pinned || res.Check.SHA256 != cmsfetchtest.SHA256(fx.PCS) ||
		res.Check.MemberSHA256 != cmsfetchtest.SHA256(fx.PCSMember) {
		t.Fatalf("PCS: %+v, %v", res, err)
	}
	// The CM order file served as the PCS zip: right name, wrong shape.
	wrong := cmsfetchtest.Zip(t, cmsfetchtest.Member{Name: "icd10pcs_order_2027.txt", Data: fx.CMMember})
	srv.Put(pcsZip, wrong, cmsfetchtest.Serve)
	if _, err := fe.Fetch(context.Background(), f, ""); !errors.Is(err, cmsfetch.ErrMismatch) || !errors.Is(err, codes.ErrWrongShape) {
		t.Errorf("wrong shape: %v", err)
	}
	// Not a zip; a zip without the member.
	srv.Put(pcsZip, []byte("<html>moved</html>"), cmsfetchtest.Serve)
	if _, err := fe.Fetch(context.Background(), f, ""); !errors.Is(err, cmsfetch.ErrMismatch) || !strings.Contains(err.Error(), "not a zip") {
		t.Errorf("html: %v", err)
	}
	srv.Put(pcsZip, cmsfetchtest.Zip(t, cmsfetchtest.Member{Name: "readme.txt", Data: []byte("x")}), cmsfetchtest.Serve)
	if _, err := fe.Fetch(context.Background(), f, ""); !errors.Is(err, cmsfetch.ErrMismatch) ||
		!strings.Contains(err.Error(), "no member named icd10pcs_order_2027.txt (members: readme.txt)") {
		t.Errorf("no member: %v", err)
	}
	// Nothing refused is kept, and the copy verified first is not lost to
	// the failed re-downloads.
	keptVerified(t, fe.Dir, pcsZip, fx.PCS)
	// HCPCS: the ANWEB workbook found by its pattern, the text file, the
	// transaction report and the corrections beside it ignored, the
	// workbook read by the loader.
	h := fx.File(t, codes.HCPCS)
	res, err = fe.Fetch(context.Background(), h, "")
	if err != nil || res.Check.Member != "HCPC2027_JAN_ANWEB_v2.xlsx" || res.Check.MemberSHA256 != cmsfetchtest.SHA256(fx.HCPCSMember) {
		t.Fatalf("HCPCS: %+v, %v", res, err)
	}
}

// TestFetchTabular: the Tabular List XML, published without a digest, is
// verified by structure and by the loader's own reading of the whole XML;
// the member is found in its folder; the older spelling of the zip is
// tried on a 404.
func TestFetchTabular(t *testing.T) {
	srv, fx, fe, _ := setup(t)
	f := fx.File(t, codes.ICD10CMTabular)
	res, err := fe.Fetch(context.Background(), f, "")
	if err != nil {
		t.Fatal(err)
	}
	if res.Path != filepath.Join(fe.Dir, cmsfetchtest.TabZip) || res.Check.Pinned || res.Check.Member != "Table and Index/icd10cm_tabular_2027.xml" ||
		res.Check.SHA256 != cmsfetchtest.SHA256(fx.Tab) || res.Check.MemberSHA256 != cmsfetchtest.SHA256(fx.TabMember) ||
		res.Check.MemberSize != int64(len(fx.TabMember)) {
		t.Errorf("tabular: %+v", res)
	}
	out, err := cmsfetch.Extract(res.Path, f, t.TempDir())
	if err != nil || filepath.Base(out) != "icd10cm_tabular_2027.xml" {
		t.Fatalf("extract: %q, %v", out, err)
	}
	if b, _ := os.ReadFile(out); !bytes.Equal(b, fx.TabMember) {
		t.Error("extracted member differs")
	}

	// Content the loader refuses is refused here, and nothing is kept: the
	// order file under the Tabular List's name (not XML), an addenda file,
	// an XML cut short, a Tabular List whose codes are not ICD-10-CM codes.
	half := fx.TabMember[:len(fx.TabMember)/2]
	addenda := bytes.Replace(fx.TabMember, []byte("<ICD10CM.tabular>"), []byte(`<ICD10CM.tabular isAddenda="true">`), 1)
	pcs := bytes.ReplaceAll(fx.TabMember, []byte("<name>E11"), []byte("<name>0DT"))
	pcs = bytes.ReplaceAll(pcs, []byte("<name>S"), []byte("<name>0"))
	pcs = bytes.ReplaceAll(pcs, []byte("<name>E"), []byte("<name>0"))
	pcs = bytes.ReplaceAll(pcs, []byte("<name>G"), []byte("<name>0"))
	pcs = bytes.ReplaceAll(pcs, []byte("<name>N"), []byte("<name>0"))
	pcs = bytes.ReplaceAll(pcs, []byte("<name>R"), []byte("<name>0"))
	pcs = bytes.ReplaceAll(pcs, []byte("<name>B"), []byte("<name>0"))
	for _, tc := range []struct {
		what   string
		member []byte
		want   string
	}{
		{"order file", fx.CMMember, "not XML"},
		{"addenda", addenda, "an addenda file"},
		{"truncated", half, "unexpected EOF"},
		{"wrong codes", pcs, "shape"},
	} {
		srv.Put(cmsfetchtest.TabZip, cmsfetchtest.Zip(t, cmsfetchtest.Member{Name: "Table and Index/icd10cm_tabular_2027.xml", Data: tc.member}), cmsfetchtest.Serve)
		_, err := fe.Fetch(context.Background(), f, "")
		if !errors.Is(err, cmsfetch.ErrMismatch) || !strings.Contains(err.Error(), "does not read as icd10cm-tabular FY2027") {
			t.Errorf("%s: %v; want it refused by the loader's checks", tc.what, err)
		} else if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v; want %q", tc.what, err, tc.want)
		}
	}
	keptVerified(t, fe.Dir, cmsfetchtest.TabZip, fx.Tab) // nothing refused kept, the verified copy not lost

	// Served only under the older spelling ("-and-"): found there after a
	// 404 at the later one.
	srv2 := cmsfetchtest.NewServer(t)
	fx2 := cmsfetchtest.NewFY2027(t, srv2.Base())
	srv2.Put("2027-code-tables-tabular-and-index.zip", fx2.Tab, cmsfetchtest.Serve)
	res, err = fe.Fetch(context.Background(), fx2.File(t, codes.ICD10CMTabular), "")
	if err != nil || res.URL != srv2.Base()+"/2027-code-tables-tabular-and-index.zip" || srv2.Hits(cmsfetchtest.TabZip) != 1 ||
		res.Path != filepath.Join(fe.Dir, cmsfetchtest.TabZip) {
		t.Errorf("alternate spelling: %+v, %v", res, err)
	}
}

func TestVerifyLocalFiles(t *testing.T) {
	fx := cmsfetchtest.NewFY2027(t, "http://mirror.invalid/files/zip")
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if c, err := cmsfetch.Verify(write(poaZip, fx.POA), fx.File(t, codes.POAExemptList)); err != nil || !c.Pinned || c.Member != "POAexemptCodesFY27.txt" {
		t.Errorf("POA: %+v, %v", c, err)
	}
	// The CDC layout: the list inside a nested zip.
	nested := cmsfetchtest.Zip(t, cmsfetchtest.Member{Name: "POAexemptCodesFY27.zip",
		Data: cmsfetchtest.Zip(t, cmsfetchtest.Member{Name: "POAexemptCodesFY27.txt", Data: fx.POAMember})})
	f := fx.File(t, codes.POAExemptList)
	f.Size, f.SHA256 = 0, ""
	c, err := cmsfetch.Verify(write("cdc.zip", nested), f)
	if err != nil || c.Member != "POAexemptCodesFY27.zip/POAexemptCodesFY27.txt" || c.MemberSize != int64(len(fx.POAMember)) {
		t.Errorf("nested: %+v, %v", c, err)
	}
	if out, err := cmsfetch.Extract(filepath.Join(dir, "cdc.zip"), f, t.TempDir()); err != nil || filepath.Base(out) != "POAexemptCodesFY27.txt" {
		t.Errorf("extract nested: %q, %v", out, err)
	}
	// Two members matching: refused with a way out.
	two := cmsfetchtest.Zip(t, cmsfetchtest.Member{Name: "a/POAexemptCodesFY27.txt", Data: fx.POAMember},
		cmsfetchtest.Member{Name: "b/POAexemptCodesFY27.txt", Data: fx.POAMember})
	if _, err := cmsfetch.Verify(write("two.zip", two), f); !errors.Is(err, cmsfetch.ErrAmbiguous) || errors.Is(err, cmsfetch.ErrMismatch) ||
		!strings.Contains(err.Error(), "a/POAexemptCodesFY27.txt, b/POAexemptCodesFY27.txt") ||
		!strings.Contains(err.Error(), "codes load --system poaexempt --version FY2027") {
		t.Errorf("two members: %v", err)
	}
	// The size of the official file is enforced even without a digest.
	f.Size = int64(len(fx.POA)) + 1
	if _, err := cmsfetch.Verify(filepath.Join(dir, poaZip), f); !errors.Is(err, cmsfetch.ErrMismatch) || !strings.Contains(err.Error(), "bytes, the official file has") {
		t.Errorf("size: %v", err)
	}
	if _, err := cmsfetch.Verify(filepath.Join(dir, "missing.zip"), f); err == nil || errors.Is(err, cmsfetch.ErrMismatch) {
		t.Errorf("missing file: %v; want an I/O error", err)
	}
}

func TestOfficialTable(t *testing.T) {
	tab := cmsfetch.Official()
	fy, err := tab.FY(2027)
	if err != nil || len(fy) != 4 {
		t.Fatal(fy, err)
	}
	want := []struct {
		sys          codes.System
		url, member  string
		size         int64
		sha, memberH string
	}{
		{codes.ICD10CM, "https://www.cms.gov/files/zip/2027-code-descriptions-tabular-order.zip", "icd10cm_order_2027.txt", 2208022,
			"91c6c9d1117764ce72375a0f3a5493b1725dafbc1ab283b55799076c9e194965", "38981fb2c1226e2b92393cef7d921d2293494dd184b5ad039dde08e4b364265f"},
		{codes.ICD10PCS, "https://www.cms.gov/files/zip/2027-icd-10-pcs-order-file-long-abbreviated-titles.zip", "icd10pcs_order_2027.txt", 0, "", ""},
		{codes.POAExemptList, "https://www.cms.gov/files/zip/2027-poa-exempt-codes.zip", "POAexemptCodesFY27.txt", 1654940,
			"03f55091045024d07c99860470b9069ef2db4c19242d4c2ba0e9f30905bea904", ""},
		{codes.ICD10CMTabular, "https://www.cms.gov/files/zip/2027-code-tables-tabular-index.zip", "icd10cm_tabular_2027.xml", 0, "", ""},
	}
	for i, w := range want {
		f := fy[i]
		if f.Release.System != w.sys || f.Release.Version != "FY2027" || f.URL != w.url || f.Member != w.member ||
			f.Size != w.size || f.SHA256 != w.sha || f.MemberSHA256 != w.memberH || f.Release.From.Format(time.DateOnly) != "2026-10-01" {
			t.Errorf("FY2027 %s: %+v", w.sys, f)
		}
	}
	// The Tabular List: CMS dropped the "-and-" for FY2027; the older
	// spelling is tried on a 404.
	if fy[3].Name != "2027-code-tables-tabular-index.zip" || fy[3].Pinned() ||
		!slices.Equal(fy[3].Alternates, []string{"https://www.cms.gov/files/zip/2027-code-tables-tabular-and-index.zip"}) ||
		fy[3].Release.To.Format(time.DateOnly) != "2027-09-30" {
		t.Errorf("FY2027 tabular: %+v", fy[3])
	}
	fy26, _ := tab.FY(2026)
	if fy26[0].SHA256 != "55a9124a27ca78a4a5c41e1101eda064ec2e08d105ff9e78d1fbd1a83298ef11" || fy26[0].Size != 2204985 ||
		fy26[1].URL != "https://www.cms.gov/files/zip/2026-icd-10-pcs-order-file-long-and-abbreviated-titles.zip" || fy26[1].Size != 1319592 ||
		fy26[2].Pinned() {
		t.Errorf("FY2026: %+v", fy26)
	}
	if len(fy26) != 4 || fy26[3].Release.System != codes.ICD10CMTabular || fy26[3].Release.Version != "FY2026" ||
		fy26[3].URL != "https://www.cms.gov/files/zip/2026-code-tables-tabular-and-index.zip" || fy26[3].Name != "2026-code-tables-tabular-and-index.zip" ||
		!slices.Equal(fy26[3].Alternates, []string{"https://www.cms.gov/files/zip/2026-code-tables-tabular-index.zip"}) ||
		fy26[3].Member != "icd10cm_tabular_2026.xml" || fy26[3].Pinned() {
		t.Errorf("FY2026 tabular: %+v", fy26[3:])
	}
	// A later year follows the pattern, with nothing pinned.
	fy28, _ := tab.FY(2028)
	if fy28[0].URL != "https://www.cms.gov/files/zip/2028-code-descriptions-tabular-order.zip" || fy28[0].Pinned() ||
		fy28[2].Member != "POAexemptCodesFY28.txt" || fy28[0].Release.To.Format(time.DateOnly) != "2028-09-30" ||
		fy28[3].URL != "https://www.cms.gov/files/zip/2028-code-tables-tabular-index.zip" || fy28[3].Member != "icd10cm_tabular_2028.xml" || fy28[3].Pinned() {
		t.Errorf("FY2028: %+v", fy28)
	}
	h, err := tab.HCPCS(2027, time.January)
	if err != nil || h.URL != "https://www.cms.gov/files/zip/january-2027-alpha-numeric-hcpcs-file.zip" ||
		h.Alternates[0] != "https://www.cms.gov/files/zip/january-2027-alpha-numeric-hcpcs-files.zip" ||
		h.Member != "HCPC2027_JAN_ANWEB[_vN|_MMDDYYYY].xlsx" || h.Release.Version != "2027-Jan" || h.Release.To.Format(time.DateOnly) != "2027-03-31" {
		t.Errorf("HCPCS 2027-01: %+v, %v", h, err)
	}
	if h, _ := tab.HCPCS(2027, time.October); h.Release.Version != "2027-Oct" || h.URL != "https://www.cms.gov/files/zip/october-2027-alpha-numeric-hcpcs-file.zip" {
		t.Errorf("HCPCS 2027-10: %+v", h)
	}
	if _, err := tab.HCPCS(2027, time.February); err == nil || !strings.Contains(err.Error(), "quarterly") {
		t.Errorf("HCPCS 2027-02: %v", err)
	}
	if _, err := tab.FY(2015); err == nil {
		t.Error("FY2015: want an error")
	}
}

// TestFetchTimeoutKeepsThePart: a server that stops sending is given up
// after Fetcher.Timeout, and what came is kept for the next run.
func TestFetchTimeoutKeepsThePart(t *testing.T) {
	srv, fx, fe, _ := setup(t)
	srv.SetMode(pcsZip, cmsfetchtest.Stall)
	fe.Timeout = 200 * time.Millisecond
	_, err := fe.Fetch(context.Background(), fx.File(t, codes.ICD10PCS), "")
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "run again to resume") {
		t.Fatalf("stalled server: %v; want a timeout keeping the part", err)
	}
	if got := dirFiles(t, fe.Dir); !slices.Equal(got, []string{pcsZip + ".part", pcsZip + ".part.meta"}) {
		t.Errorf("download directory holds %v", got)
	}
	fe.Timeout = 0
	srv.SetMode(pcsZip, cmsfetchtest.Serve)
	if res, err := fe.Fetch(context.Background(), fx.File(t, codes.ICD10PCS), ""); err != nil || res.Resumed != int64(len(fx.PCS)/2) {
		t.Errorf("resume after the timeout: %+v, %v", res, err)
	}
}

// TestOfficialFY2026MembersAreTheBundledFiles: the member digests the
// table pins for FY2026 are those of the files bundled in codebridge (the
// loader records the digest of the content it loads), so `codes fetch
// --fy 2026` on a database where load-bundled ran downloads nothing for
// them.
func TestOfficialFY2026MembersAreTheBundledFiles(t *testing.T) {
	fy26, err := cmsfetch.Official().FY(2026)
	if err != nil {
		t.Fatal(err)
	}
	pinned := 0
	for _, b := range codes.Bundled() {
		for _, f := range fy26 {
			if f.Release != b.Release || f.MemberSHA256 == "" {
				continue
			}
			rc, err := b.Open()
			if err != nil {
				t.Fatal(err)
			}
			data, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
			if got := cmsfetchtest.SHA256(data); got != f.MemberSHA256 || int64(len(data)) != f.MemberSize || !strings.EqualFold(b.Name, f.Member) {
				t.Errorf("%s: bundled %s sha256 %s (%d bytes); the table pins %s %s (%d bytes)", b.Release, b.Name, got, len(data), f.Member, f.MemberSHA256, f.MemberSize)
			}
			pinned++
		}
	}
	if pinned != 2 {
		t.Errorf("%d FY2026 members checked, want 2 (icd10cm, icd10pcs)", pinned)
	}
}

// TestHCPCSMember: of the files CMS ships in a quarterly HCPCS zip, the
// ANWEB workbook is the one loaded, in each naming CMS has used; of two
// versions the higher; a tie is refused naming what was found.
func TestHCPCSMember(t *testing.T) {
	workbook := cmsfetchtest.HCPCSXLSX(t)
	other := cmsfetchtest.Workbook(t, [][]string{{"HCPC", "ACTION CD"}, {"J0139", "N"}})
	tab := cmsfetch.Table{BaseURL: "http://mirror.invalid/files/zip"}
	oct26, err := tab.HCPCS(2026, time.October)
	if err != nil {
		t.Fatal(err)
	}
	jan26, _ := tab.HCPCS(2026, time.January)
	oct25, _ := tab.HCPCS(2025, time.October)
	m := func(name string, data []byte) cmsfetchtest.Member { return cmsfetchtest.Member{Name: name, Data: data} }
	dir := t.TempDir()
	for _, tc := range []struct {
		what    string
		f       cmsfetch.File
		members []cmsfetchtest.Member
		want    string // the member loaded; "" for a refusal
		err     error
		msg     string
	}{
		{"October 2026 (the real contents)", oct26, []cmsfetchtest.Member{
			m("HCPC2026_OCT_ANWEB_Transaction Report_v2.xlsx", other),
			m("HCPC2026_OCT_ANWEB_v2.txt", []byte("J0139 fixed-width record\r\n")),
			m("HCPC2026_OCT_ANWEB_Corrections_v2.xlsx", other),
			m("HCPC2026_OCT_ANWEB_v2.xlsx", workbook)}, "HCPC2026_OCT_ANWEB_v2.xlsx", nil, ""},
		{"two versions", oct26, []cmsfetchtest.Member{
			m("HCPC2026_OCT_ANWEB_v10.xlsx", workbook), m("HCPC2026_OCT_ANWEB_v2.xlsx", other),
			m("HCPC2026_OCT_ANWEB.xlsx", other), m("HCPC2026_OCT_ANWEB_Transaction Report_v11.xlsx", other)}, "HCPC2026_OCT_ANWEB_v10.xlsx", nil, ""},
		{"dated (January 2026)", jan26, []cmsfetchtest.Member{
			m("HCPC2026_JAN_ANWEB_Transaction Report_01122026.xlsx", other), m("hcpc2026_jan_anweb_01122026.XLSX", workbook)},
			"hcpc2026_jan_anweb_01122026.XLSX", nil, ""},
		{"no suffix (October 2025)", oct25, []cmsfetchtest.Member{
			m("HCPC2025_OCT_ANWEB.txt", []byte("x\r\n")), m("HCPC2025_OCT_ANWEB.xlsx", workbook)}, "HCPC2025_OCT_ANWEB.xlsx", nil, ""},
		{"only the transaction report", oct26, []cmsfetchtest.Member{
			m("HCPC2026_OCT_ANWEB_Transaction Report_v2.xlsx", other), m("HCPC2026_OCT_ANWEB_v2.txt", []byte("x\r\n"))},
			"", cmsfetch.ErrMismatch, "no member named HCPC2026_OCT_ANWEB[_vN|_MMDDYYYY].xlsx (members: HCPC2026_OCT_ANWEB_Transaction Report_v2.xlsx, HCPC2026_OCT_ANWEB_v2.txt)"},
		{"another quarter's workbook", oct26, []cmsfetchtest.Member{m("HCPC2026_JUL_ANWEB_v2.xlsx", workbook)}, "", cmsfetch.ErrMismatch, "no member named"},
		{"a tie", oct26, []cmsfetchtest.Member{
			m("a/HCPC2026_OCT_ANWEB_v2.xlsx", workbook), m("b/HCPC2026_OCT_ANWEB_v2.xlsx", workbook), m("HCPC2026_OCT_ANWEB_v1.xlsx", workbook)},
			"", cmsfetch.ErrAmbiguous, "2 members match HCPC2026_OCT_ANWEB[_vN|_MMDDYYYY].xlsx equally well (a/HCPC2026_OCT_ANWEB_v2.xlsx, b/HCPC2026_OCT_ANWEB_v2.xlsx); extract the right one and load it with `codebridge codes load --system hcpcs --version 2026-Oct FILE`"},
	} {
		p := filepath.Join(dir, strings.ReplaceAll(tc.what, " ", "_")+".zip")
		if err := os.WriteFile(p, cmsfetchtest.Zip(t, tc.members...), 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := cmsfetch.Verify(p, tc.f)
		if tc.want != "" {
			if err != nil || c.Member != tc.want || c.MemberSHA256 != cmsfetchtest.SHA256(workbook) {
				t.Errorf("%s: %+v, %v; want %s loaded", tc.what, c, err, tc.want)
			}
			out, err := cmsfetch.Extract(p, tc.f, t.TempDir())
			if b, _ := os.ReadFile(out); err != nil || filepath.Base(out) != path.Base(tc.want) || !bytes.Equal(b, workbook) {
				t.Errorf("%s: extracted %q, %v", tc.what, out, err)
			}
			continue
		}
		if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v; want %v with %q", tc.what, err, tc.err, tc.msg)
		}
		if tc.err == cmsfetch.ErrAmbiguous && (errors.Is(err, cmsfetch.ErrMismatch) || strings.Contains(err.Error(), "not the official file")) {
			t.Errorf("%s: %v; a tie is not a mismatch", tc.what, err)
		}
	}

	// Fetched, an ambiguous zip is complete: it is kept under its name for
	// the operator to extract the member, not deleted.
	srv := cmsfetchtest.NewServer(t)
	f, _ := cmsfetch.Table{BaseURL: srv.Base()}.HCPCS(2026, time.October)
	srv.Put(f.Name, cmsfetchtest.Zip(t, m("a/HCPC2026_OCT_ANWEB_v2.xlsx", workbook), m("b/HCPC2026_OCT_ANWEB_v2.xlsx", workbook)), cmsfetchtest.Serve)
	fe := &cmsfetch.Fetcher{Dir: t.TempDir()}
	_, err = fe.Fetch(context.Background(), f, "")
	if !errors.Is(err, cmsfetch.ErrAmbiguous) || !strings.Contains(err.Error(), "kept as "+filepath.Join(fe.Dir, f.Name)+", not loaded") {
		t.Errorf("ambiguous fetch: %v", err)
	}
	if got := dirFiles(t, fe.Dir); !slices.Equal(got, []string{f.Name}) {
		t.Errorf("download directory holds %v", got)
	}
}

// tabularMemChild names the zip that TestVerifyTabularMemory's child
// process verifies.
const tabularMemChild = "CMSFETCH_TEST_TABULAR_MEMORY_ZIP"

// TestVerifyTabularMemory: a Tabular List XML of the real file's size
// (about 10 MB, 100,000 codes) is verified without holding it: the heap
// of a fresh process grows by less than twice the member's size (what
// stays is ReadTabular's set of the codes seen, for its duplicate check,
// and the garbage collector's headroom; 12.5 MB measured for 11.7 MB under
// -race). Buffering the member and loading it into a Catalog, as Verify
// did before, grew it by 80 MB. The verification runs in a child process
// so that the heap measured is its own.
func TestVerifyTabularMemory(t *testing.T) {
	if p := os.Getenv(tabularMemChild); p != "" {
		fy, err := cmsfetch.Table{BaseURL: "http://mirror.invalid/files/zip"}.FY(2027)
		if err != nil {
			t.Fatal(err)
		}
		f := fy[3]
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		c, err := cmsfetch.Verify(p, f)
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("heap grew %d bytes; member %d bytes\n", int64(after.HeapSys)-int64(before.HeapSys), c.MemberSize)
		return
	}
	var xml bytes.Buffer
	xml.WriteString("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<ICD10CM.tabular>\n<version>2027</version>\n")
	letters := "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	for i := range len(letters) {
		l := letters[i : i+1]
		fmt.Fprintf(&xml, "<chapter><name>%d</name><desc>Chapter %s</desc>\n<section id=\"%s00-%s99\"><desc>Section %s</desc>\n", i+1, l, l, l, l)
		for c := range 100 {
			cat := fmt.Sprintf("%s%02d", l, c)
			fmt.Fprintf(&xml, "<diag><name>%s</name><desc>Category %s of the synthetic list</desc><excludes1><note>other conditions (%s.-)</note></excludes1>\n", cat, cat, cat)
			for s := range 10 {
				fmt.Fprintf(&xml, "<diag><name>%s.%d</name><desc>Subcategory %s.%d</desc>\n", cat, s, cat, s)
				for k := range 3 {
					fmt.Fprintf(&xml, "<diag><name>%s.%d%d</name><desc>Code %s.%d%d, a synthetic code</desc><inclusionTerm><note>term %d</note></inclusionTerm></diag>\n", cat, s, k, cat, s, k, k)
				}
				xml.WriteString("</diag>\n")
			}
			xml.WriteString("</diag>\n")
		}
		xml.WriteString("</section></chapter>\n")
	}
	xml.WriteString("</ICD10CM.tabular>\n")
	if xml.Len() < 9<<20 {
		t.Fatalf("synthetic list of %d bytes; want about 10 MB", xml.Len())
	}
	p := filepath.Join(t.TempDir(), "tab.zip")
	if err := os.WriteFile(p, cmsfetchtest.Zip(t, cmsfetchtest.Member{Name: "Table and Index/icd10cm_tabular_2027.xml", Data: xml.Bytes()}), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestVerifyTabularMemory$", "-test.count=1")
	cmd.Env = append(os.Environ(), tabularMemChild+"="+p)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var grew, member int64
	if i := bytes.Index(out, []byte("heap grew ")); i < 0 {
		t.Fatalf("child: %s", out)
	} else if _, err := fmt.Sscanf(string(out[i:]), "heap grew %d bytes; member %d bytes", &grew, &member); err != nil {
		t.Fatalf("child: %v: %s", err, out)
	}
	t.Logf("verifying a %d-byte Tabular List grew the heap by %d bytes", member, grew)
	if member != int64(xml.Len()) || grew >= 2*member {
		t.Errorf("verifying a %d-byte Tabular List grew the heap by %d bytes; want less than twice the member's size", member, grew)
	}
}

// keptVerified checks that dir holds exactly name, with the content want
// that verified earlier: refused downloads leave nothing, and do not take
// away the good copy.
func keptVerified(t *testing.T, dir, name string, want []byte) {
	t.Helper()
	if got := dirFiles(t, dir); !slices.Equal(got, []string{name}) {
		t.Errorf("download directory holds %v, want only the verified %s", got, name)
	}
	if b, err := os.ReadFile(filepath.Join(dir, name)); err != nil || !bytes.Equal(b, want) {
		t.Errorf("%s is no longer the verified download: %v", name, err)
	}
}
