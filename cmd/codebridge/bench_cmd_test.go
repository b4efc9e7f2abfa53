package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
	"github.com/codebridge/codebridge/cmd/codebridge-bench/bench"
	"github.com/codebridge/codebridge/config"
	"github.com/codebridge/codebridge/mapping/codes"
)

// loadBenchCodeSets loads what straight-through coding of the generated
// visits needs, quickly: the curated ICD-10-CM codes' lines of the bundled
// FY2026 order file, the bundled HCPCS quarter and the bundled Medicare
// Code Editor lists (without an MCE release every chart would carry a
// NO_RELEASE_FOR_DOS note for mce, which stops straight-through coding).
func loadBenchCodeSets(t *testing.T, m *Main) {
	t.Helper()
	keep := map[string]bool{}
	for _, icd := range bench.DiagnosisCodes() {
		keep[codes.Normalize(codes.ICD10CM, icd)] = true
	}
	cs := postgres.NewCodeStore(m.DB)
	for _, b := range codes.Bundled() {
		if b.Release.System != codes.ICD10CM && b.Release.System != codes.HCPCS && b.Release.System != codes.MCE {
			continue
		}
		rc, err := b.Open()
		if err != nil {
			t.Fatal(err)
		}
		var src io.Reader = rc
		if b.Release.System == codes.ICD10CM {
			var lines bytes.Buffer
			sc := bufio.NewScanner(rc)
			for sc.Scan() {
				if l := sc.Text(); len(l) > 14 && keep[strings.TrimSpace(l[6:13])] {
					lines.WriteString(l + "\n")
				}
			}
			src = &lines
		}
		_, err = cs.LoadRelease(context.Background(), b.Release, src, nil)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestBenchCommand runs the codebridge-bench harness for 3 s, after a small preload,
// against a running Main (real PostgreSQL, embedded broker, straight-through
// coding on, no QA sampling) and checks the JSON report: throughput, every
// Bundle accepted, a ready event for every visit and a Claim for every
// outpatient visit, both bounds measured, the scratch schema gone; then
// its compare of the report with itself.
func TestBenchCommand(t *testing.T) {
	dbURL := pgtest.NewURL(t)
	m := startMain(t, dbURL, func(c *config.Config) {
		c.AutoCode, c.QASampleRate = true, 0
		// The synthetic visits carry no telehealth modifier and the test
		// loads no NCCI tables and no Tabular List: allow those notes so
		// every outpatient visit is billed, as the load model expects.
		c.AutoCodeAllowWarnings = []string{"TELEHEALTH_MODIFIER", "NO_RELEASE_FOR_DOS:ptp", "NO_RELEASE_FOR_DOS:mue",
			"NO_RELEASE_FOR_DOS:icd10cm-tabular"}
	})
	loadBenchCodeSets(t, m)
	out := filepath.Join(t.TempDir(), "report.json")
	var stdout, stderr bytes.Buffer
	o := bench.DefaultOptions()
	o.URL, o.Token, o.Seed = "http://"+m.Addr, "e2e-ehr-token", 5
	o.Concurrency, o.Duration, o.Brokers, o.DatabaseURL = 2, 3*time.Second, m.KafkaAddr, dbURL
	o.StatusTopic, o.ClaimsTopic = m.Config.StatusTopic, m.Config.ClaimsTopic
	o.BoundsDuration, o.Preload, o.PreloadBatch, o.PreloadConcurrency = time.Second, 150, 50, 2
	o.Drain, o.Out = 90*time.Second, out
	if err := bench.Run(context.Background(), o, &stdout, &stderr); err != nil {
		t.Fatalf("bench: %v\nstderr:\n%s\nstdout:\n%s", err, stderr.String(), stdout.String())
	}
	r, err := bench.ReadReport(out)
	if err != nil {
		t.Fatal(err)
	}
	checkBenchLoad(t, r)
	checkBenchE2E(t, r.EndToEnd)
	for name, b := range map[string]*bench.Bound{"parse": r.Bounds.Parse, "postgres": r.Bounds.Postgres} {
		if b == nil || b.Error != "" || b.PerSecond <= 0 || b.ServiceShare <= 0 || b.Goroutines != 2 {
			t.Errorf("%s bound = %+v, want measured on 2 goroutines", name, b)
		}
	}
	if p := r.Preload; p == nil || p.Resources < 150 || len(p.Errors) != 0 {
		t.Errorf("preload = %+v, want at least 150 resources and no errors", p)
	}
	if mc := r.Machine; mc.CPUs < 1 || mc.MemTotalBytes <= 0 || mc.GoVersion == "" || mc.ServerVersion == "" {
		t.Errorf("machine = %+v", mc)
	}
	// Every visit names one of the 9 organizations and 54 clinicians, sent as
	// conditional creates by concurrent clients: none may be stored twice.
	if n := count(t, m, `SELECT count(*) FROM resources WHERE type IN ('Organization', 'Practitioner')`); n != 9*(1+bench.Clinicians) {
		t.Errorf("%d organizations and clinicians stored, want %d", n, 9*(1+bench.Clinicians))
	}
	if n := count(t, m, `SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'codebridge_bench_%'`); n != 0 {
		t.Errorf("%d scratch schemas left behind", n)
	}
	for _, want := range []string{"resources ", "ingest -> status event ready", "ingest -> Claim on Kafka", "the service reached"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout.String())
		}
	}
	checkBenchCompare(t, out)
}

// checkBenchCompare compares a report with itself.
func checkBenchCompare(t *testing.T, report string) {
	t.Helper()
	var stdout bytes.Buffer
	if err := bench.Compare(&stdout, report, report); err != nil || !strings.Contains(stdout.String(), "resources/s") || !strings.Contains(stdout.String(), "+0.0%") {
		t.Errorf("bench compare = %v\n%s", err, stdout.String())
	}
}

func checkBenchLoad(t *testing.T, r *bench.Report) {
	t.Helper()
	l := r.Load
	if l.BundlesSent == 0 || l.BundlesAccepted != l.BundlesSent || len(l.Errors) != 0 {
		t.Fatalf("load: %d sent, %d accepted, errors %v %v", l.BundlesSent, l.BundlesAccepted, l.Errors, l.ErrorDetails)
	}
	if l.ResourcesPerSec <= 0 || l.BundlesPerSec <= 0 || l.Resources < 7*l.BundlesAccepted || l.Latency.Count != int(l.BundlesAccepted) || l.Latency.P50 <= 0 {
		t.Errorf("load = %+v", l)
	}
	visits := 0
	for _, n := range l.Visits {
		visits += n
	}
	if int64(visits) != l.BundlesSent {
		t.Errorf("visits by kind %v add up to %d, want %d", l.Visits, visits, l.BundlesSent)
	}
}

func checkBenchE2E(t *testing.T, e *bench.E2E) {
	t.Helper()
	if e == nil {
		t.Fatal("no end-to-end figures")
	}
	got := [2]int{e.ReadyEvents, e.Claims}
	if diff := cmp.Diff([2]int{e.Accepted, e.Outpatient}, got); diff != "" || e.Outpatient == 0 {
		t.Errorf("ready events and Claims of %d visits (%d outpatient): mismatch (-want +got):\n%s", e.Accepted, e.Outpatient, diff)
	}
	if e.Ready.Count != e.ReadyEvents || e.Ready.P50 <= 0 || e.Claim.Count != e.Claims || e.Claim.P50 <= 0 {
		t.Errorf("latencies: ready %+v, claim %+v", e.Ready, e.Claim)
	}
}
