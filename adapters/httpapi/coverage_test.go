package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/codebridge/codebridge/mapping/codes"
)

// fakeReleases is a release list another process may change, with its
// coverage on a fixed day.
type fakeReleases struct {
	mu    sync.Mutex
	rels  []codes.Release
	fail  bool
	today time.Time
}

func (f *fakeReleases) coverage(context.Context) (time.Time, []codes.SystemCoverage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return time.Time{}, nil, errors.New("database down")
	}
	return f.today, codes.Coverage(f.rels, f.today), nil
}

func (f *fakeReleases) load(t *testing.T, system codes.System, version string) {
	r, err := codes.NewRelease(system, version)
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	f.rels = append(f.rels, r)
	f.mu.Unlock()
}

func newCoverageServer(t *testing.T, f *fakeReleases, db *atomic.Bool) *Server {
	return New(Options{
		Logger:   slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Registry: prometheus.NewRegistry(),
		Auth:     NewAuthenticator(testTokens, false),
		Ready: []Check{{Name: "database", Fn: func(context.Context) error {
			if db.Load() {
				return errors.New("down")
			}
			return nil
		}}},
		CodeSets: f.coverage,
	})
}

// TestReadyzCodeSetCoverage: /readyz stays 200 with the dependencies up
// however many code sets lack a release for today, and names each of them
// with the release to load and how; 503 still only for a dependency.
func TestReadyzCodeSetCoverage(t *testing.T) {
	f := &fakeReleases{today: time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC)}
	for _, r := range []struct {
		system  codes.System
		version string
	}{{codes.ICD10CM, "FY2026"}, {codes.ICD10CM, "FY2027"}, {codes.ICD10PCS, "FY2026"}, {codes.HCPCS, "2025-Oct"}} {
		f.load(t, r.system, r.version)
	}
	var down atomic.Bool
	s := newCoverageServer(t, f, &down)
	rec := do(t, s, "GET", "/readyz", "", "")
	if rec.Code != 200 {
		t.Fatalf("readyz = %d %s, want 200 (coverage is a warning, not a failure)", rec.Code, rec.Body)
	}
	var body struct {
		Status   string            `json:"status"`
		Checks   map[string]string `json:"checks"`
		CodeSets codeSetsDetail    `json:"codeSets"`
		Warnings []string          `json:"warnings"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if body.Status != "ok" || body.Checks["database"] != "ok" || body.CodeSets.Date != "2026-12-08" || len(body.CodeSets.Systems) != len(codes.SiteSystems) {
		t.Fatalf("readyz body %s", rec.Body)
	}
	cm := body.CodeSets.Systems[0]
	if cm.System != "icd10cm" || !cm.Covered || cm.Release != "FY2027" || cm.ValidTo != "2027-09-30" || cm.DaysLeft != 297 {
		t.Errorf("icd10cm = %+v, want FY2027 covered, 297 days left", cm)
	}
	pcs := body.CodeSets.Systems[1]
	if pcs.System != "icd10pcs" || pcs.Covered || pcs.Missing != "FY2027" || pcs.MissingFrom != "2026-10-01" ||
		pcs.Hint != "codebridge codes fetch --fy 2027" || pcs.DaysLeft != 0 {
		t.Errorf("icd10pcs = %+v, want FY2027 missing with the fetch hint", pcs)
	}
	// One warning per system not covered: all but ICD-10-CM.
	if len(body.Warnings) != len(codes.SiteSystems)-1 {
		t.Errorf("warnings = %q, want %d", body.Warnings, len(codes.SiteSystems)-1)
	}
	for _, want := range []string{
		"no icd10pcs release covers 2026-12-08: load icd10pcs FY2027 (2026-10-01..2027-09-30) with `codebridge codes fetch --fy 2027`",
		"no hcpcs release covers 2026-12-08: load hcpcs 2026-Oct (2026-10-01..2026-12-31) with `codebridge codes fetch --hcpcs 2026-10`",
		"no ptp release covers 2026-12-08: load ptp 2026Q4 (2026-10-01..2026-12-31) with `codebridge codes load --system ptp --version 2026Q4 FILE`",
	} {
		if !containsPrefix(body.Warnings, want) {
			t.Errorf("no warning %q in %q", want, body.Warnings)
		}
	}

	// The database down: 503 as before, whatever the coverage.
	down.Store(true)
	if rec := do(t, s, "GET", "/readyz", "", ""); rec.Code != 503 || !strings.Contains(rec.Body.String(), `"database":"unavailable"`) {
		t.Errorf("readyz with the database down = %d %s, want 503", rec.Code, rec.Body)
	}
	// Coverage unreadable with the dependencies up: 200, no codeSets part.
	down.Store(false)
	f.mu.Lock()
	f.fail = true
	f.mu.Unlock()
	if rec := do(t, s, "GET", "/readyz", "", ""); rec.Code != 200 || strings.Contains(rec.Body.String(), "codeSets") {
		t.Errorf("readyz with the coverage unreadable = %d %s, want 200 without codeSets", rec.Code, rec.Body)
	}
	f.mu.Lock()
	f.fail = false
	f.mu.Unlock()
	// Every code set covered: no warnings part.
	for _, r := range []struct {
		system  codes.System
		version string
	}{{codes.ICD10PCS, "FY2027"}, {codes.POAExemptList, "FY2027"}, {codes.HCPCS, "2026-Oct"}, {codes.CPT, "2026"},
		{codes.MUETable, "2026Q4"}, {codes.PTPTable, "2026Q4"}} {
		f.load(t, r.system, r.version)
	}
	if rec := do(t, s, "GET", "/readyz", "", ""); rec.Code != 200 || strings.Contains(rec.Body.String(), "warnings") {
		t.Errorf("readyz with every code set covered = %d %s, want 200 without warnings", rec.Code, rec.Body)
	}
}

func containsPrefix(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

// TestCodeSetCoverageGauges: the gauges follow the release list at each
// scrape (a release loaded by another process shows without a restart),
// and are absent while the list cannot be read.
func TestCodeSetCoverageGauges(t *testing.T) {
	f := &fakeReleases{today: time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC)}
	f.load(t, codes.ICD10CM, "FY2027")
	var down atomic.Bool
	s := newCoverageServer(t, f, &down)
	metrics := func() string { return do(t, s, "GET", "/metrics", "", "").Body.String() }
	m := metrics()
	for _, want := range []string{
		`codebridge_codeset_coverage_days{system="icd10cm"} 297`,
		`codebridge_codeset_covered{system="icd10cm"} 1`,
		`codebridge_codeset_coverage_days{system="icd10pcs"} 0`,
		`codebridge_codeset_covered{system="icd10pcs"} 0`,
		`codebridge_codeset_covered{system="ptp"} 0`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	f.load(t, codes.ICD10PCS, "FY2027")
	f.load(t, codes.ICD10PCS, "FY2028") // loaded ahead: coverage runs on through FY2028
	m = metrics()
	if !strings.Contains(m, `codebridge_codeset_coverage_days{system="icd10pcs"} 663`) || !strings.Contains(m, `codebridge_codeset_covered{system="icd10pcs"} 1`) {
		t.Errorf("after loading ICD-10-PCS FY2027 and FY2028: %s", grep(m, "codeset"))
	}
	f.mu.Lock()
	f.fail = true
	f.mu.Unlock()
	if m := metrics(); strings.Contains(m, "codebridge_codeset_") {
		t.Errorf("coverage unreadable, yet gauges: %s", grep(m, "codeset"))
	}
}

func grep(text, word string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, word) && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestCodeSearchNoteNamesTheMissingRelease: a search for a date no release
// covers answers the newest release's codes (never refusing to show codes)
// with a note naming the release that would cover the date and how to
// load it.
func TestCodeSearchNoteNamesTheMissingRelease(t *testing.T) {
	s, _ := newCodesServer(t)
	var got struct {
		Results []CodeHit    `json:"results"`
		Release *CodeRelease `json:"release"`
		InForce bool         `json:"inForce"`
		Note    string       `json:"note"`
	}
	rec := do(t, s, "GET", "/api/v1/codes/search?q=J209&date=2026-11-15", "tok-coder-123", "")
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != 200 {
		t.Fatalf("%d %s: %v", rec.Code, rec.Body, err)
	}
	want := "no icd10cm release covers 2026-11-15 (it needs icd10cm FY2027 (2026-10-01..2027-09-30): load it with " +
		"`codebridge codes fetch --fy 2027`); showing the newest release loaded, icd10cm FY2026 (2025-10-01..2026-09-30), " +
		"for reference: its codes are not checked against 2026-11-15"
	if got.InForce || len(got.Results) != 1 || got.Release == nil || got.Release.Version != "FY2026" || got.Note != want {
		t.Errorf("search on 2026-11-15 = %+v\nwant the FY2026 hits, inForce false, note %q", got, want)
	}
	got.Note = ""
	rec = do(t, s, "GET", "/api/v1/codes/search?system=cpt&q=99213&date=2027-01-04", "tok-coder-123", "")
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != 200 {
		t.Fatalf("%d %s: %v", rec.Code, rec.Body, err)
	}
	want = "no cpt release is loaded; it needs cpt 2027 (2027-01-01..2027-12-31): load it with `codebridge codes load --system cpt --version 2027 FILE`"
	if got.Note != want {
		t.Errorf("CPT note = %q, want %q", got.Note, want)
	}
}
