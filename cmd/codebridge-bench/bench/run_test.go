package bench

import (
	"bytes"
	"context"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestValidate(t *testing.T) {
	ok := DefaultOptions()
	ok.Token = "tok"
	with := func(f func(o *Options)) Options { o := ok; f(&o); return o }
	tests := []struct {
		name    string
		o       Options
		wantErr string
	}{
		{"defaults with a token", ok, ""},
		{"no token", DefaultOptions(), "--token is required"},
		{"no clients", with(func(o *Options) { o.Concurrency = 0 }), "--concurrency"},
		{"no preload clients", with(func(o *Options) { o.PreloadConcurrency = 0 }), "--preload-concurrency"},
		{"no duration", with(func(o *Options) { o.Duration = 0 }), "--duration must be positive"},
		{"negative preload", with(func(o *Options) { o.Preload = -1 }), "--preload must not be negative"},
		{"empty preload batch", with(func(o *Options) { o.PreloadBatch = 0 }), "--preload-batch"},
	}
	for _, tt := range tests {
		err := tt.o.validate()
		if got := errString(err); (tt.wantErr == "") != (got == "") || !strings.Contains(got, tt.wantErr) {
			t.Errorf("%s: validate() = %q, want an error containing %q", tt.name, got, tt.wantErr)
		}
	}
}

// TestRunValidatesFirst checks that Run refuses bad options before it
// sends anything (the URL points nowhere).
func TestRunValidatesFirst(t *testing.T) {
	o := DefaultOptions()
	o.URL = "http://127.0.0.1:1"
	var stdout, stderr bytes.Buffer
	if err := Run(context.Background(), o, &stdout, &stderr); err == nil || !strings.Contains(err.Error(), "--token") {
		t.Errorf("Run without a token = %v, want the --token error", err)
	}
	o.Token, o.Mix = "tok", "dental=1"
	if err := Run(context.Background(), o, &stdout, &stderr); err == nil || !strings.Contains(err.Error(), "--mix") {
		t.Errorf("Run with a bad mix = %v, want a --mix error", err)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestSettings checks what the report records of the options: never the
// token, the database URL without its password, the preload only when
// there is one.
func TestSettings(t *testing.T) {
	o := DefaultOptions()
	o.Token, o.DatabaseURL, o.Brokers, o.Duration = "secret-token", "postgres://u:pw@db:5432/x", "k:9092", 20*time.Second
	want := Settings{URL: "http://127.0.0.1:8080", Concurrency: 4, Seconds: 20, Mix: o.Mix, Seed: 1, Run: "r1",
		Brokers: "k:9092", DatabaseURL: "postgres://u:REDACTED@db:5432/x", BoundsSeconds: 10}
	got := o.settings("r1")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	o.Preload = 1000
	got = o.settings("r1")
	if got.Preload != 1000 || got.PreloadBatch != 200 || got.PreloadWorkers != 8 {
		t.Errorf("preload settings = %d, %d, %d; want 1000, 200, 8", got.Preload, got.PreloadBatch, got.PreloadWorkers)
	}
}

func TestBrokerList(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"k1:9092", []string{"k1:9092"}},
		{" k1:9092, ,k2:9092 ", []string{"k1:9092", "k2:9092"}},
	}
	for _, tt := range tests {
		o := Options{Brokers: tt.in}
		if diff := cmp.Diff(tt.want, o.brokerList()); diff != "" {
			t.Errorf("%q: mismatch (-want +got):\n%s", tt.in, diff)
		}
	}
}

// TestDiagnosisCodes checks that DiagnosisCodes names every curated
// diagnosis once.
func TestDiagnosisCodes(t *testing.T) {
	want := map[string]bool{}
	for _, dxs := range diagnoses {
		for _, d := range dxs {
			want[d.ICD] = true
		}
	}
	got := DiagnosisCodes()
	sort.Strings(got)
	var wantList []string
	for c := range want {
		wantList = append(wantList, c)
	}
	sort.Strings(wantList)
	if diff := cmp.Diff(wantList, got); diff != "" || len(got) < 20 {
		t.Errorf("%d codes; mismatch (-want +got):\n%s", len(got), diff)
	}
}

// TestCompare writes two reports and prints the changes between them.
func TestCompare(t *testing.T) {
	dir := t.TempDir()
	old := &Report{Options: Settings{Concurrency: 4, Seconds: 20, Mix: "ed=1"}, Machine: Machine{CPUs: 2, Version: "v1"},
		Load: Ingest{ResourcesPerSec: 500, BundlesPerSec: 50, Latency: Latency{P50: 80, P95: 150, P99: 200, Max: 300}}}
	cur := &Report{Load: Ingest{ResourcesPerSec: 520, BundlesPerSec: 40, Latency: Latency{P50: 80, P95: 150, P99: 100, Max: 300}},
		Bounds: Bounds{Parse: &Bound{PerSecond: 4000, ServiceShare: 0.13}}}
	oldPath, curPath := filepath.Join(dir, "old.json"), filepath.Join(dir, "new.json")
	for p, r := range map[string]*Report{oldPath: old, curPath: cur} {
		if err := r.writeJSON(p); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	if err := Compare(&out, oldPath, curPath); err != nil {
		t.Fatal(err)
	}
	lines := map[string]string{} // figure -> the line, its spaces collapsed
	for _, l := range strings.Split(out.String(), "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			lines[strings.SplitN(strings.TrimSpace(l), "  ", 2)[0]] = strings.Join(f, " ")
		}
	}
	tests := []struct{ figure, want string }{
		{"resources/s", "+4.0%"},            // under 5%: no verdict
		{"bundles/s", "-20.0% worse"},       // higher is better
		{"latency p99 ms", "-50.0% better"}, // lower is better
		{"latency p50 ms", "+0.0%"},
		{"errors", "0.00 0.00 n/a"},
		{"parse bound resources/s", "resources/s - 4,000"}, // not in the old report
	}
	for _, tt := range tests {
		if l := lines[tt.figure]; !strings.HasSuffix(l, tt.want) {
			t.Errorf("%s: line %q, want it to end in %q\n%s", tt.figure, l, tt.want, out.String())
		}
	}
	if !strings.Contains(out.String(), "compared with "+oldPath+" (") || !strings.Contains(out.String(), "2 CPUs, codebridge v1, concurrency 4, 20.0 s, mix ed=1") {
		t.Errorf("compare header:\n%s", out.String())
	}
	if err := Compare(&out, filepath.Join(dir, "missing.json"), curPath); err == nil {
		t.Error("Compare of a missing report: no error")
	}
}
