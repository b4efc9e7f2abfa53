package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/codebridge/codebridge/config"
)

// benchOptions are the flags of `codebridge bench`.
type benchOptions struct {
	url, token         string
	concurrency        int
	duration           time.Duration
	mix                string
	seed               uint64
	brokers            string
	statusTopic        string
	claimsTopic        string
	databaseURL        string
	out, compare       string
	boundsDuration     time.Duration
	drain, settle      time.Duration
	progress           time.Duration
	preload            int
	preloadBatch       int
	preloadConcurrency int
	quietAfterLoad     time.Duration // no Kafka message for this long ends the drain
	quietAfterPreload  time.Duration // and the settling after a preload
}

func newBenchCmd(getenv func(string) string, g *globalFlags, stdout, stderr io.Writer) *cobra.Command {
	o := &benchOptions{quietAfterLoad: 5 * time.Second, quietAfterPreload: 3 * time.Second}
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Load a running codebridge with synthetic visits and report throughput, latency, end-to-end Kafka latency and this machine's bounds",
		Long: `Bench POSTs synthetic transaction Bundles (telehealth, office, ED and inpatient
visits: Patient, Coverage, Organization, Practitioner, a finished Encounter,
1-6 Conditions with ICD-10-CM and SNOMED CT codings, 0-4 Procedures with CPT,
HCPCS or ICD-10-PCS codes and a DocumentReference with the note, dated in
FY2026) to a running codebridge from --concurrency clients for --duration,
printing progress on stderr and a summary on stdout: resources/s, Bundles/s,
latency percentiles and errors by HTTP status.

With --brokers it reads the status and claims topics from their end offsets
at start and reports ingest -> "ready" status event and ingest -> Claim
latency. Afterwards it measures two bounds on this machine over the same
Bundles: the validating FHIR parse alone, and (with --database-url) raw
PostgreSQL COPY of the same resources into a scratch schema that is dropped
at the end; the report gives the service's throughput as a share of each.

--preload N first stores about N resources in large transaction Bundles and
reports how long that took, for comparing throughput on an empty database
with throughput after growth. --out writes the report as JSON; --compare
prints the changes from an earlier report.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(getenv, g)
			if err != nil {
				return err
			}
			if o.statusTopic == "" {
				o.statusTopic = cfg.StatusTopic
			}
			if o.claimsTopic == "" {
				o.claimsTopic = cfg.ClaimsTopic
			}
			return runBench(cmd.Context(), o, stdout, stderr)
		},
	}
	o.flags(cmd)
	cmd.AddCommand(newBenchCompareCmd(stdout))
	return cmd
}

// flags registers the options on cmd.
func (o *benchOptions) flags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.url, "url", "http://127.0.0.1:8080", "base URL of the running codebridge")
	f.StringVar(&o.token, "token", "", "bearer token with the ehr (or admin) role (required)")
	f.IntVar(&o.concurrency, "concurrency", 4, "concurrent clients, and goroutines of each bound")
	f.DurationVar(&o.duration, "duration", time.Minute, "how long to send load")
	f.StringVar(&o.mix, "mix", "telehealth=40,office=30,ed=20,inpatient=10", "share of each kind of visit")
	f.Uint64Var(&o.seed, "seed", 1, "generator seed: the same seed sends the same visits (with fresh MRNs)")
	f.StringVar(&o.brokers, "brokers", "", "Kafka bootstrap brokers the service publishes to (comma-separated); enables end-to-end latency")
	f.StringVar(&o.statusTopic, "status-topic", "", "status topic (default: CODEBRIDGE_STATUS_TOPIC or codebridge.workitem.status)")
	f.StringVar(&o.claimsTopic, "claims-topic", "", "claims topic (default: CODEBRIDGE_CLAIMS_TOPIC or codebridge.claims)")
	f.StringVar(&o.databaseURL, "database-url", "", "PostgreSQL URL for the raw-insert bound (a scratch schema is created and dropped)")
	f.StringVar(&o.out, "out", "", "write the report as JSON to this file")
	f.StringVar(&o.compare, "compare", "", "an earlier JSON report to print the changes from")
	f.DurationVar(&o.boundsDuration, "bounds-duration", 10*time.Second, "how long to measure each bound (0 skips them)")
	f.DurationVar(&o.drain, "drain", 2*time.Minute, "how long at most to wait for events after the load")
	f.DurationVar(&o.settle, "settle", 30*time.Minute, "how long at most to wait after a preload for the service's events to stop")
	f.DurationVar(&o.progress, "progress", 2*time.Second, "progress line interval on stderr (0: none)")
	f.IntVar(&o.preload, "preload", 0, "store about this many resources before measuring")
	f.IntVar(&o.preloadBatch, "preload-batch", 200, "resources per preload Bundle (whole visits, about 10 resources each)")
	f.IntVar(&o.preloadConcurrency, "preload-concurrency", 8, "concurrent clients of the preload")
}

func newBenchCompareCmd(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "compare OLD.json NEW.json",
		Short: "Print the changes between two bench reports",
		Args:  cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			old, err := readBenchReport(args[0])
			if err != nil {
				return err
			}
			cur, err := readBenchReport(args[1])
			if err != nil {
				return err
			}
			cur.printCompare(stdout, old, args[0])
			return nil
		},
	}
}

func (o *benchOptions) validate() error {
	switch {
	case o.token == "":
		return errors.New("bench: --token is required (a token with the ehr or admin role)")
	case o.concurrency < 1 || o.preloadConcurrency < 1:
		return errors.New("bench: --concurrency and --preload-concurrency must be at least 1")
	case o.duration <= 0:
		return errors.New("bench: --duration must be positive")
	case o.preload < 0 || o.preloadBatch < 1:
		return errors.New("bench: --preload must not be negative and --preload-batch must be at least 1")
	}
	return nil
}

func (o *benchOptions) settings(run string) benchSettings {
	s := benchSettings{URL: o.url, Concurrency: o.concurrency, Seconds: o.duration.Seconds(), Mix: o.mix, Seed: o.seed, Run: run,
		Brokers: o.brokers, BoundsSeconds: o.boundsDuration.Seconds()}
	if o.databaseURL != "" {
		s.DatabaseURL = config.RedactURL(o.databaseURL)
	}
	if o.preload > 0 {
		s.Preload, s.PreloadBatch, s.PreloadWorkers = o.preload, o.preloadBatch, o.preloadConcurrency
	}
	return s
}

func (o *benchOptions) brokerList() []string {
	var out []string
	for _, b := range strings.Split(o.brokers, ",") {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	return out
}

// runBench runs the whole benchmark: preload, load, events, bounds, report.
func runBench(ctx context.Context, o *benchOptions, stdout, stderr io.Writer) error {
	if err := o.validate(); err != nil {
		return err
	}
	mix, err := parseBenchMix(o.mix)
	if err != nil {
		return err
	}
	o.mix = mix.String()
	var old *benchReport
	if o.compare != "" {
		if old, err = readBenchReport(o.compare); err != nil {
			return err
		}
	}
	run := benchRunLabel()
	gen, err := newBenchGen(o.seed, run, mix)
	if err != nil {
		return err
	}
	client := newBenchClient(o.url, o.token, max(o.concurrency, o.preloadConcurrency))
	if err := benchSetup(ctx, client, gen); err != nil {
		return err
	}
	r := &benchReport{Started: time.Now().UTC(), Machine: machineInfo(), Options: o.settings(run)}
	r.Machine.ServerVersion = serverVersion(ctx, client)
	var watch *benchWatch
	if brokers := o.brokerList(); len(brokers) > 0 {
		if watch, err = startBenchWatch(ctx, brokers, o.statusTopic, o.claimsTopic); err != nil {
			return err
		}
		defer watch.Close()
	}
	if o.preload > 0 {
		r.Preload = benchPreloadRun(ctx, o, gen, client, watch, stderr)
	}
	r.Load, err = benchLoadRun(ctx, o, gen, client, watch, r, stderr)
	if err != nil {
		return err
	}
	r.Bounds = benchBoundsRun(ctx, o, gen, r.Load)
	r.Machine.LoadAvgEnd = benchLoadAvg()
	return r.finish(o, old, stdout)
}

// benchSetup checks that the service answers the token, and stores the
// provider directory the visits refer to.
func benchSetup(ctx context.Context, client *benchClient, gen *benchGen) error {
	if err := client.check(ctx); err != nil {
		return err
	}
	a := client.post(ctx, gen.Providers())
	for try := 1; a.status == "409" && try < benchTries; try++ {
		a = client.post(ctx, gen.Providers())
	}
	if a.status != "200" {
		return fmt.Errorf("bench: storing the provider directory: %s %s", a.status, a.detail)
	}
	return nil
}

// benchRunLabel makes the label that keeps this run's MRNs apart from
// other runs'.
func benchRunLabel() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// benchPreloadRun stores about o.preload resources in transaction Bundles
// of several visits, then waits for the service's events to stop (its
// straight-through coder working off the backlog) so that the measured
// load starts from a quiet service.
func benchPreloadRun(ctx context.Context, o *benchOptions, gen *benchGen, client *benchClient, watch *benchWatch, stderr io.Writer) *benchPreload {
	visits := max(1, o.preloadBatch/10)
	ph := benchPhase{name: "preload", client: client, workers: o.preloadConcurrency, limit: int64(o.preload),
		make: func(i int64) benchVisit { return gen.Batch(i, visits) }, progress: stderr, interval: o.progress}
	t, elapsed := ph.run(ctx)
	in := ingestOf(t, elapsed)
	p := &benchPreload{Resources: in.Resources, Bundles: in.BundlesAccepted, Seconds: in.Seconds, ResourcesPerSec: in.ResourcesPerSec,
		Errors: in.Errors, Retries: in.Retries}
	if watch != nil {
		fmt.Fprintf(stderr, "preload: %d resources in %.1f s; waiting for the service's events to stop\n", p.Resources, p.Seconds)
		p.SettleSeconds = watch.settle(ctx, o.quietAfterPreload, o.settle).Seconds()
		watch.forget()
	}
	return p
}

// benchLoadRun sends the measured load and, with a watch, drains the
// events it caused.
func benchLoadRun(ctx context.Context, o *benchOptions, gen *benchGen, client *benchClient, watch *benchWatch, r *benchReport, stderr io.Writer) (benchIngest, error) {
	ph := benchPhase{name: "bench", client: client, workers: o.concurrency, deadline: time.Now().Add(o.duration),
		make: gen.Visit, progress: stderr, interval: o.progress}
	t, elapsed := ph.run(ctx)
	if err := ctx.Err(); err != nil {
		return benchIngest{}, fmt.Errorf("bench: interrupted: %w", err)
	}
	in := ingestOf(t, elapsed)
	if watch != nil {
		fmt.Fprintf(stderr, "bench: load done; waiting for the events of %d visits\n", len(t.sent))
		e := watch.drain(ctx, t.sent, o.quietAfterLoad, o.drain)
		r.EndToEnd = &e
	}
	return in, nil
}

// benchBoundsSample is how many of the run's Bundles the bounds cycle over.
const benchBoundsSample = 500

// benchBoundsRun measures the bounds over the first Bundles the load sent.
func benchBoundsRun(ctx context.Context, o *benchOptions, gen *benchGen, in benchIngest) benchBounds {
	var b benchBounds
	if o.boundsDuration <= 0 {
		return b
	}
	n := min(max(in.BundlesSent, 50), benchBoundsSample)
	bundles := make([][]byte, n)
	for i := range bundles {
		bundles[i] = gen.Visit(int64(i)).Body
	}
	b.Parse = parseBound(ctx, bundles, o.concurrency, o.boundsDuration)
	if o.databaseURL != "" {
		b.Postgres = postgresBound(ctx, o.databaseURL, bundles, o.concurrency, o.boundsDuration)
	}
	for _, x := range []*benchBound{b.Parse, b.Postgres} {
		if x != nil && x.Error == "" && x.PerSecond > 0 {
			x.ServiceShare = in.ResourcesPerSec / x.PerSecond
		}
	}
	return b
}

// finish writes and prints the report (and its changes from old, if any),
// and fails the command when nothing was accepted.
func (r *benchReport) finish(o *benchOptions, old *benchReport, stdout io.Writer) error {
	if o.out != "" {
		if err := r.writeJSON(o.out); err != nil {
			return err
		}
	}
	r.printSummary(stdout)
	if old != nil {
		r.printCompare(stdout, old, o.compare)
	}
	if r.Load.BundlesAccepted == 0 {
		return fmt.Errorf("bench: no Bundle was accepted (%s)", benchErrors(r.Load.Errors))
	}
	return nil
}
