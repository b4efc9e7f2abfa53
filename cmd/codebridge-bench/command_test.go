package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/codebridge/codebridge/cmd/codebridge-bench/bench"
)

// TestFlags checks that the command hands the harness the options its
// flags say, the defaults where none is given, and the topics of the
// service's configuration unless --status-topic or --claims-topic is given.
func TestFlags(t *testing.T) {
	defaults := bench.DefaultOptions()
	defaults.Version = buildVersion()
	defaults.StatusTopic, defaults.ClaimsTopic = "codebridge.workitem.status", "codebridge.claims"
	with := func(f func(o *bench.Options)) bench.Options { o := defaults; f(&o); return o }
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want bench.Options
	}{
		{"defaults", nil, nil, defaults},
		{"every flag", nil, []string{"--url", "http://h:1", "--token", "tok", "--concurrency", "3", "--duration", "20s",
			"--mix", "ed=1", "--seed", "9", "--brokers", "k1:9092,k2:9092", "--status-topic", "s.t", "--claims-topic", "c.t",
			"--database-url", "postgres://x", "--out", "o.json", "--compare", "c.json", "--bounds-duration", "0s",
			"--drain", "1m", "--settle", "5m", "--progress", "0s", "--preload", "1000", "--preload-batch", "50",
			"--preload-concurrency", "2"},
			with(func(o *bench.Options) {
				o.URL, o.Token, o.Concurrency, o.Duration, o.Mix, o.Seed = "http://h:1", "tok", 3, 20*time.Second, "ed=1", 9
				o.Brokers, o.StatusTopic, o.ClaimsTopic, o.DatabaseURL = "k1:9092,k2:9092", "s.t", "c.t", "postgres://x"
				o.Out, o.Compare, o.BoundsDuration, o.Drain, o.Settle, o.Progress = "o.json", "c.json", 0, time.Minute, 5*time.Minute, 0
				o.Preload, o.PreloadBatch, o.PreloadConcurrency = 1000, 50, 2
			})},
		{"topics from the environment", map[string]string{"CODEBRIDGE_STATUS_TOPIC": "env.s", "CODEBRIDGE_CLAIMS_TOPIC": "env.c"}, nil,
			with(func(o *bench.Options) { o.StatusTopic, o.ClaimsTopic = "env.s", "env.c" })},
		{"flags win over the environment", map[string]string{"CODEBRIDGE_STATUS_TOPIC": "env.s"}, []string{"--status-topic", "flag.s"},
			with(func(o *bench.Options) { o.StatusTopic = "flag.s" })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *bench.Options
			run := func(_ context.Context, o bench.Options, _, _ io.Writer) error { got = &o; return nil }
			cmd := newRootCmd(func(k string) string { return tt.env[k] }, io.Discard, io.Discard, run)
			cmd.SetArgs(tt.args)
			if err := cmd.Execute(); err != nil {
				t.Fatal(err)
			}
			if got == nil {
				t.Fatal("the harness was not run")
			}
			if diff := cmp.Diff(tt.want, *got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestConfigFile checks that --config supplies the default topics and that
// a bad configuration stops the run before it starts.
func TestConfigFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "codebridge.yaml")
	if err := os.WriteFile(p, []byte("CODEBRIDGE_STATUS_TOPIC: from.file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var got bench.Options
	run := func(_ context.Context, o bench.Options, _, _ io.Writer) error { got = o; return nil }
	cmd := newRootCmd(func(string) string { return "" }, io.Discard, io.Discard, run)
	cmd.SetArgs([]string{"--config", p})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.StatusTopic != "from.file" {
		t.Errorf("status topic = %q, want from.file", got.StatusTopic)
	}

	ran := false
	run = func(context.Context, bench.Options, io.Writer, io.Writer) error { ran = true; return nil }
	cmd = newRootCmd(func(k string) string {
		return map[string]string{"CODEBRIDGE_STATUS_TOPIC": "has space"}[k]
	}, io.Discard, io.Discard, run)
	cmd.SetArgs(nil)
	if err := cmd.Execute(); err == nil || !strings.Contains(err.Error(), "CODEBRIDGE_STATUS_TOPIC") || ran {
		t.Errorf("bad topic: err = %v, ran = %v; want a CODEBRIDGE_STATUS_TOPIC error and no run", err, ran)
	}
}

// TestRunError checks that the harness's error is the command's.
func TestRunError(t *testing.T) {
	want := errors.New("boom")
	run := func(context.Context, bench.Options, io.Writer, io.Writer) error { return want }
	cmd := newRootCmd(func(string) string { return "" }, io.Discard, io.Discard, run)
	cmd.SetArgs(nil)
	if err := cmd.Execute(); !errors.Is(err, want) {
		t.Errorf("err = %v, want %v", err, want)
	}
}

// TestCompareCommand runs `codebridge-bench compare` on two reports.
func TestCompareCommand(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	old := write("old.json", `{"load":{"resourcesPerSecond":500,"bundlesPerSecond":50}}`)
	cur := write("new.json", `{"load":{"resourcesPerSecond":550,"bundlesPerSecond":50}}`)
	bad := write("bad.json", `not json`)
	var stdout bytes.Buffer
	run := func(context.Context, bench.Options, io.Writer, io.Writer) error { t.Error("the load ran"); return nil }
	cmd := newRootCmd(func(string) string { return "" }, &stdout, io.Discard, run)
	cmd.SetArgs([]string{"compare", old, cur})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"compared with " + old, "+10.0% better"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("compare output lacks %q:\n%s", want, stdout.String())
		}
	}
	for _, args := range [][]string{{"compare", old}, {"compare", old, bad}} {
		cmd := newRootCmd(func(string) string { return "" }, io.Discard, io.Discard, run)
		cmd.SetArgs(args)
		if err := cmd.Execute(); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
