package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/codebridge/codebridge/adapters/cmsfetch"
	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/mapping/codes"
)

// fetchOptions are the flags of `codes fetch`.
type fetchOptions struct {
	fy           int
	hcpcs        string
	systems      []string
	urls         []string
	files        []string
	dir          string
	timeout      time.Duration
	downloadOnly bool
}

// newCodesFetchCmd is `codebridge codes fetch` on the official CMS table.
func newCodesFetchCmd(getenv func(string) string, g *globalFlags, stdout, stderr io.Writer) *cobra.Command {
	return newCodesFetchCmdWith(getenv, g, stdout, stderr, cmsfetch.Official(), nil)
}

// newCodesFetchCmdWith is `codes fetch` on table, with client making the
// requests (nil: cmsfetch.NewClient); tests give a local server's table.
func newCodesFetchCmdWith(getenv func(string) string, g *globalFlags, stdout, stderr io.Writer, table cmsfetch.Table, client *http.Client) *cobra.Command {
	var o fetchOptions
	cmd := &cobra.Command{
		Use:   "fetch --fy YYYY | --hcpcs YYYY-MM",
		Short: "Download the official code-set files from CMS, verify them and load them",
		Long: `Download the official files from CMS, check each against codebridge's table of
published sizes and SHA-256 digests (refusing a mismatch and keeping nothing
partial), and load them:

  --fy 2027       the ICD-10-CM order file, the ICD-10-PCS order file, the
                  POA-exempt list and the ICD-10-CM Tabular List XML (its
                  instructional notes) of fiscal year 2027 (valid
                  2026-10-01..2027-09-30)
  --hcpcs 2027-01 the HCPCS Level II file of that quarter (01, 04, 07 or 10)

A file whose digest no one published is checked by size (when known) and
structure (the zip, the member, the loader's shape checks), and the SHA-256 seen
is printed. A release already loaded from identical content is left as it is
(when the table knows the member's digest, nothing is downloaded). Downloads
are kept in --dir and resumed after an interruption. --file loads a zip you
downloaded elsewhere (still verified); --url fetches from a mirror.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCodesFetch(cmd.Context(), getenv, g, stdout, stderr, table, client, o)
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&o.fy, "fy", 0, "fiscal year of the ICD-10-CM, ICD-10-PCS, POA-exempt and Tabular List files (e.g. 2027)")
	fl.StringVar(&o.hcpcs, "hcpcs", "", "quarter of the HCPCS Level II file, YYYY-MM with MM 01, 04, 07 or 10 (e.g. 2027-01)")
	fl.StringSliceVar(&o.systems, "system", nil, "only these of the selected files: icd10cm, icd10pcs, poaexempt, icd10cm-tabular, hcpcs")
	fl.StringArrayVar(&o.urls, "url", nil, "download SYSTEM's zip from URL (a mirror): SYSTEM=URL, or URL alone when one file is selected; repeatable")
	fl.StringArrayVar(&o.files, "file", nil, "use the local zip PATH instead of downloading (verified all the same): [SYSTEM=]PATH, "+
		"SYSTEM may be left out when PATH keeps the official file name or one file is selected; repeatable")
	fl.StringVar(&o.dir, "dir", "", "download directory (default: the user cache directory + /codebridge/codes)")
	fl.DurationVar(&o.timeout, "timeout", 30*time.Minute, "time limit of each download")
	fl.BoolVar(&o.downloadOnly, "download-only", false, "download and verify into --dir, load nothing (no database needed)")
	return cmd
}

func runCodesFetch(ctx context.Context, getenv func(string) string, g *globalFlags, stdout, stderr io.Writer,
	table cmsfetch.Table, client *http.Client, o fetchOptions) error {
	files, err := selectFetchFiles(table, o)
	if err != nil {
		return err
	}
	urls, err := assignFlag("--url", o.urls, files, false)
	if err != nil {
		return err
	}
	locals, err := assignFlag("--file", o.files, files, true)
	if err != nil {
		return err
	}
	for sys := range urls {
		if _, ok := locals[sys]; ok {
			return fmt.Errorf("--url and --file both name %s: give one", sys)
		}
	}
	if o.dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return fmt.Errorf("--dir: no user cache directory (%w); give --dir", err)
		}
		o.dir = filepath.Join(cache, "codebridge", "codes")
	}
	f := &fetchRun{stdout: stdout, urls: urls, locals: locals, fe: &cmsfetch.Fetcher{
		Client: cmp.Or(client, cmsfetch.NewClient()), Dir: o.dir, UserAgent: "codebridge/" + buildVersion() + " (codes fetch)",
		Log: stderr, Progress: downloadProgress(stderr), Timeout: o.timeout,
	}}
	if o.downloadOnly {
		return f.each(ctx, files, "downloaded", func(file cmsfetch.File) error {
			_, _, err := f.obtain(ctx, file)
			return err
		})
	}
	return withCodeStore(ctx, getenv, g, func(s *postgres.CodeStore) error {
		rels, err := s.ListReleases(ctx)
		if err != nil {
			return err
		}
		return f.each(ctx, files, "loaded", func(file cmsfetch.File) error {
			return f.fetchAndLoad(ctx, s, rels, file, stderr)
		})
	})
}

// selectFetchFiles returns the files --fy, --hcpcs and --system select.
func selectFetchFiles(table cmsfetch.Table, o fetchOptions) ([]cmsfetch.File, error) {
	if o.fy == 0 && o.hcpcs == "" {
		return nil, fmt.Errorf("give --fy YYYY (ICD-10-CM/PCS, POA-exempt, Tabular List) or --hcpcs YYYY-MM (HCPCS), or both")
	}
	var files []cmsfetch.File
	if o.fy != 0 {
		fy, err := table.FY(o.fy)
		if err != nil {
			return nil, fmt.Errorf("--fy: %w", err)
		}
		files = append(files, fy...)
	}
	if o.hcpcs != "" {
		ys, ms, ok := strings.Cut(o.hcpcs, "-")
		y, yerr := strconv.Atoi(ys)
		m, merr := strconv.Atoi(ms)
		if !ok || yerr != nil || merr != nil || len(ys) != 4 || len(ms) != 2 {
			return nil, fmt.Errorf("--hcpcs %q: want YYYY-MM, e.g. 2027-01", o.hcpcs)
		}
		h, err := table.HCPCS(y, time.Month(m))
		if err != nil {
			return nil, fmt.Errorf("--hcpcs: %w", err)
		}
		files = append(files, h)
	}
	if len(o.systems) == 0 {
		return files, nil
	}
	var out []cmsfetch.File
	for _, s := range o.systems {
		sys, err := codes.ParseSystem(s)
		i := slices.IndexFunc(files, func(f cmsfetch.File) bool { return f.Release.System == sys })
		if err != nil || i < 0 {
			return nil, fmt.Errorf("--system %q: not among the selected files (%s)", s, systemsOf(files))
		}
		out = append(out, files[i])
	}
	return out, nil
}

func systemsOf(files []cmsfetch.File) string {
	var s []string
	for _, f := range files {
		s = append(s, string(f.Release.System))
	}
	return strings.Join(s, ", ")
}

// assignFlag maps the values of a repeatable [SYSTEM=]VALUE flag to the
// selected files. Without SYSTEM=, a value goes to the one selected file,
// or (byName) to the file whose official name is the value's base name.
func assignFlag(flag string, vals []string, files []cmsfetch.File, byName bool) (map[codes.System]string, error) {
	out := map[codes.System]string{}
	for _, v := range vals {
		var sys codes.System
		if s, rest, ok := strings.Cut(v, "="); ok && !strings.Contains(s, "/") {
			p, err := codes.ParseSystem(s)
			if err != nil {
				return nil, fmt.Errorf("%s %q: %q is not a system (%s)", flag, v, s, systemsOf(files))
			}
			sys, v = p, rest
		} else if i := slices.IndexFunc(files, func(f cmsfetch.File) bool { return officialName(f, filepath.Base(v)) }); byName && i >= 0 {
			sys = files[i].Release.System
		} else if len(files) == 1 {
			sys = files[0].Release.System
		} else {
			return nil, fmt.Errorf("%s %q: several files are selected (%s); write %s SYSTEM=%s", flag, v, systemsOf(files), flag, v)
		}
		if !slices.ContainsFunc(files, func(f cmsfetch.File) bool { return f.Release.System == sys }) {
			return nil, fmt.Errorf("%s %q: %s is not among the selected files (%s)", flag, v, sys, systemsOf(files))
		}
		if _, dup := out[sys]; dup {
			return nil, fmt.Errorf("%s: %s given twice", flag, sys)
		}
		if v == "" {
			return nil, fmt.Errorf("%s %s=: empty value", flag, sys)
		}
		out[sys] = v
	}
	return out, nil
}

// officialName reports whether name is the file name of f or of one of
// its alternate addresses (the Tabular List zip of FY2027 is
// 2027-code-tables-tabular-index.zip, earlier years kept "-and-").
func officialName(f cmsfetch.File, name string) bool {
	if strings.EqualFold(f.Name, name) {
		return true
	}
	return slices.ContainsFunc(f.Alternates, func(u string) bool { return strings.EqualFold(path.Base(u), name) })
}

// fetchRun fetches and loads the selected files one by one.
type fetchRun struct {
	stdout io.Writer
	fe     *cmsfetch.Fetcher
	urls   map[codes.System]string
	locals map[codes.System]string
}

// each runs fn on every file, going on after a failure (a 404 on one file
// does not keep the others from loading) unless ctx ends; it returns every
// failure. what is what a failed file was not: "loaded", or "downloaded"
// with --download-only.
func (f *fetchRun) each(ctx context.Context, files []cmsfetch.File, what string, fn func(cmsfetch.File) error) error {
	var errs []error
	for _, file := range files {
		if err := fn(file); err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w", file.Release.System, file.Release.Version, err))
		}
		if ctx.Err() != nil {
			break
		}
	}
	if len(errs) > 0 {
		fmt.Fprintf(f.stdout, "%d of %d files not %s\n", len(errs), len(files), what)
	}
	return errors.Join(errs...)
}

// fetchAndLoad loads file unless the release is loaded already from the
// content the table pins.
func (f *fetchRun) fetchAndLoad(ctx context.Context, s *postgres.CodeStore, rels []postgres.ReleaseInfo, file cmsfetch.File, stderr io.Writer) error {
	rel := file.Release
	i := slices.IndexFunc(rels, func(r postgres.ReleaseInfo) bool { return r.System == rel.System && r.Version == rel.Version })
	var stored *postgres.ReleaseInfo
	if i >= 0 {
		stored = &rels[i]
	}
	if stored != nil && file.MemberSHA256 != "" && strings.EqualFold(stored.SHA256, file.MemberSHA256) {
		fmt.Fprintf(f.stdout, "%s already loaded from the official %s (sha256 %s); nothing fetched\n", rel, file.Member, stored.SHA256)
		return nil
	}
	zipPath, check, err := f.obtain(ctx, file)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "codebridge-fetch-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	member, err := cmsfetch.Extract(zipPath, file, tmp)
	if err != nil {
		return err
	}
	if stored != nil && !strings.EqualFold(stored.SHA256, check.MemberSHA256) {
		// A release derived here (load-bundled's FY2027 ICD-10-CM from the
		// addenda, with its own order numbers) or loaded from another file
		// gives way to the official file of the same version.
		fmt.Fprintf(f.stdout, "replacing %s %s (loaded from %s, sha256 %s) with the official %s\n",
			rel.System, rel.Version, orNone(stored.Source), stored.SHA256, filepath.Base(member))
	}
	return loadCodesFile(ctx, s, rel, member, f.stdout, stderr)
}

func orNone(s string) string {
	if s == "" {
		return "an unnamed file"
	}
	return s
}

// obtain returns the verified zip of file: the --file given for it, or a
// download (or a verified copy in the download directory).
func (f *fetchRun) obtain(ctx context.Context, file cmsfetch.File) (string, cmsfetch.Check, error) {
	if p, ok := f.locals[file.Release.System]; ok {
		c, err := cmsfetch.Verify(p, file)
		if err != nil {
			return "", c, fmt.Errorf("--file %s refused: %w", p, err)
		}
		f.report(file, p, "", c)
		return p, c, nil
	}
	res, err := f.fe.Fetch(ctx, file, f.urls[file.Release.System])
	if err != nil {
		return "", res.Check, err
	}
	if res.URL == "" {
		fmt.Fprintf(f.stdout, "using %s, downloaded before and verified again\n", res.Path)
	}
	f.report(file, res.Path, res.URL, res.Check)
	return res.Path, res.Check, nil
}

// report prints what the verification of file found.
func (f *fetchRun) report(file cmsfetch.File, p, url string, c cmsfetch.Check) {
	from := ""
	if url != "" {
		from = " from " + url
	}
	switch {
	case file.SHA256 != "":
		fmt.Fprintf(f.stdout, "verified %s%s: %d bytes, sha256 %s (the published digest)\n", filepath.Base(p), from, c.Size, c.SHA256)
	case file.MemberSHA256 != "":
		fmt.Fprintf(f.stdout, "verified %s%s: %d bytes, sha256 %s; member %s sha256 %s (the known digest)\n",
			filepath.Base(p), from, c.Size, c.SHA256, c.Member, c.MemberSHA256)
	default:
		size := "size not published"
		if file.Size > 0 {
			size = "size as published"
		}
		fmt.Fprintf(f.stdout, "checked %s%s: %d bytes (%s), sha256 %s: no published SHA-256 in codebridge's table, "+
			"so verified by structure (member %s, %d bytes, sha256 %s, records of the shape of %s); record this digest\n",
			filepath.Base(p), from, c.Size, size, c.SHA256, c.Member, c.MemberSize, c.MemberSHA256, file.Release.System)
	}
}

// isTerminal reports whether w is a terminal (the only place a progress
// bar is drawn: its carriage-return frames would litter a log or a pipe).
func isTerminal(w io.Writer) bool {
	fl, ok := w.(*os.File)
	return ok && term.IsTerminal(int(fl.Fd()))
}

// downloadProgress returns a progress bar per download when w is a
// terminal, else nil (the fetcher then writes plain lines).
func downloadProgress(w io.Writer) func(name string, total, have int64) (io.Writer, func()) {
	if !isTerminal(w) {
		return nil
	}
	return func(name string, total, have int64) (io.Writer, func()) {
		bar := progressbar.NewOptions64(total, progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription("downloading "+name), progressbar.OptionShowBytes(true),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish(),
			// As in loadCodesFile: no spinner ticker (it reads the bar's
			// state without its lock, a data race under -race).
			progressbar.OptionSetSpinnerChangeInterval(0))
		if have > 0 {
			_ = bar.Set64(have)
		}
		return bar, func() { _ = bar.Finish() }
	}
}
