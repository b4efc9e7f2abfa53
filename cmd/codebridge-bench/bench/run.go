package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/codebridge/codebridge/config"
)

// Options configure one run of the harness. The codebridge-bench command
// sets them from its flags; DefaultOptions gives the flags' defaults.
type Options struct {
	URL, Token         string        // the running codebridge and a token with the ehr (or admin) role
	Concurrency        int           // concurrent clients, and goroutines of each bound
	Duration           time.Duration // how long to send load
	Mix                string        // share of each kind of visit, e.g. "telehealth=40,office=30,ed=20,inpatient=10"
	Seed               uint64        // generator seed: the same seed sends the same visits (with fresh MRNs)
	Brokers            string        // Kafka bootstrap brokers (comma-separated); enables end-to-end latency
	StatusTopic        string        // the status topic read with Brokers
	ClaimsTopic        string        // the claims topic read with Brokers
	DatabaseURL        string        // PostgreSQL URL for the raw-insert bound (a scratch schema is created and dropped)
	Out, Compare       string        // write the JSON report here; print the changes from this earlier report
	BoundsDuration     time.Duration // how long to measure each bound (0 skips them)
	Drain, Settle      time.Duration // the longest waits for events after the load and after a preload
	Progress           time.Duration // progress line interval on stderr (0: none)
	Preload            int           // store about this many resources before measuring
	PreloadBatch       int           // resources per preload Bundle
	PreloadConcurrency int           // concurrent clients of the preload
	QuietAfterLoad     time.Duration // no Kafka message for this long ends the drain
	QuietAfterPreload  time.Duration // and the settling after a preload
	Version            string        // the harness's version, recorded in the report
}

// DefaultOptions answers the options of a run with no flags but --token:
// the defaults of the codebridge-bench flags. The topics are left empty:
// the command takes them from the service's configuration.
func DefaultOptions() Options {
	return Options{
		URL: "http://127.0.0.1:8080", Concurrency: 4, Duration: time.Minute,
		Mix: "telehealth=40,office=30,ed=20,inpatient=10", Seed: 1,
		BoundsDuration: 10 * time.Second, Drain: 2 * time.Minute, Settle: 30 * time.Minute, Progress: 2 * time.Second,
		PreloadBatch: 200, PreloadConcurrency: 8,
		QuietAfterLoad: 5 * time.Second, QuietAfterPreload: 3 * time.Second, Version: "dev",
	}
}

// Compare prints to w the changes from the report in oldPath to the one in
// newPath.
func Compare(w io.Writer, oldPath, newPath string) error {
	old, err := ReadReport(oldPath)
	if err != nil {
		return err
	}
	cur, err := ReadReport(newPath)
	if err != nil {
		return err
	}
	cur.printCompare(w, old, oldPath)
	return nil
}

func (o *Options) validate() error {
	switch {
	case o.Token == "":
		return errors.New("bench: --token is required (a token with the ehr or admin role)")
	case o.Concurrency < 1 || o.PreloadConcurrency < 1:
		return errors.New("bench: --concurrency and --preload-concurrency must be at least 1")
	case o.Duration <= 0:
		return errors.New("bench: --duration must be positive")
	case o.Preload < 0 || o.PreloadBatch < 1:
		return errors.New("bench: --preload must not be negative and --preload-batch must be at least 1")
	}
	return nil
}

func (o *Options) settings(run string) Settings {
	s := Settings{URL: o.URL, Concurrency: o.Concurrency, Seconds: o.Duration.Seconds(), Mix: o.Mix, Seed: o.Seed, Run: run,
		Brokers: o.Brokers, BoundsSeconds: o.BoundsDuration.Seconds()}
	if o.DatabaseURL != "" {
		s.DatabaseURL = config.RedactURL(o.DatabaseURL)
	}
	if o.Preload > 0 {
		s.Preload, s.PreloadBatch, s.PreloadWorkers = o.Preload, o.PreloadBatch, o.PreloadConcurrency
	}
	return s
}

func (o *Options) brokerList() []string {
	var out []string
	for _, b := range strings.Split(o.Brokers, ",") {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	return out
}

// Run runs the whole benchmark: preload, load, events, bounds, report.
func Run(ctx context.Context, opts Options, stdout, stderr io.Writer) error {
	o := &opts
	if err := o.validate(); err != nil {
		return err
	}
	mix, err := parseMix(o.Mix)
	if err != nil {
		return err
	}
	o.Mix = mix.String()
	var old *Report
	if o.Compare != "" {
		if old, err = ReadReport(o.Compare); err != nil {
			return err
		}
	}
	run := runLabel()
	gen, err := newGenerator(o.Seed, run, mix)
	if err != nil {
		return err
	}
	client := newLoadClient(o.URL, o.Token, max(o.Concurrency, o.PreloadConcurrency))
	if err := setup(ctx, client, gen); err != nil {
		return err
	}
	r := &Report{Started: time.Now().UTC(), Machine: machineInfo(o.Version), Options: o.settings(run)}
	r.Machine.ServerVersion = serverVersion(ctx, client)
	var watch *watcher
	if brokers := o.brokerList(); len(brokers) > 0 {
		if watch, err = startWatch(ctx, brokers, o.StatusTopic, o.ClaimsTopic); err != nil {
			return err
		}
		defer watch.Close()
	}
	if o.Preload > 0 {
		r.Preload = runPreload(ctx, o, gen, client, watch, stderr)
	}
	r.Load, err = runLoad(ctx, o, gen, client, watch, r, stderr)
	if err != nil {
		return err
	}
	r.Bounds = runBounds(ctx, o, gen, r.Load)
	r.Machine.LoadAvgEnd = loadAvg()
	return r.finish(o, old, stdout)
}

// setup checks that the service answers the token, and stores the
// provider directory the visits refer to.
func setup(ctx context.Context, client *loadClient, gen *generator) error {
	if err := client.check(ctx); err != nil {
		return err
	}
	a := client.post(ctx, gen.Providers())
	for try := 1; a.status == "409" && try < tries; try++ {
		a = client.post(ctx, gen.Providers())
	}
	if a.status != "200" {
		return fmt.Errorf("bench: storing the provider directory: %s %s", a.status, a.detail)
	}
	return nil
}

// runLabel makes the label that keeps this run's MRNs apart from
// other runs'.
func runLabel() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// runPreload stores about o.Preload resources in transaction Bundles
// of several visits, then waits for the service's events to stop (its
// straight-through coder working off the backlog) so that the measured
// load starts from a quiet service.
func runPreload(ctx context.Context, o *Options, gen *generator, client *loadClient, watch *watcher, stderr io.Writer) *Preload {
	visits := max(1, o.PreloadBatch/10)
	ph := phase{name: "preload", client: client, workers: o.PreloadConcurrency, limit: int64(o.Preload),
		make: func(i int64) visit { return gen.Batch(i, visits) }, progress: stderr, interval: o.Progress}
	t, elapsed := ph.run(ctx)
	in := ingestOf(t, elapsed)
	p := &Preload{Resources: in.Resources, Bundles: in.BundlesAccepted, Seconds: in.Seconds, ResourcesPerSec: in.ResourcesPerSec,
		Errors: in.Errors, Retries: in.Retries}
	if watch != nil {
		fmt.Fprintf(stderr, "preload: %d resources in %.1f s; waiting for the service's events to stop\n", p.Resources, p.Seconds)
		p.SettleSeconds = watch.settle(ctx, o.QuietAfterPreload, o.Settle).Seconds()
		watch.forget()
	}
	return p
}

// runLoad sends the measured load and, with a watch, drains the
// events it caused.
func runLoad(ctx context.Context, o *Options, gen *generator, client *loadClient, watch *watcher, r *Report, stderr io.Writer) (Ingest, error) {
	ph := phase{name: "bench", client: client, workers: o.Concurrency, deadline: time.Now().Add(o.Duration),
		make: gen.Visit, progress: stderr, interval: o.Progress}
	t, elapsed := ph.run(ctx)
	if err := ctx.Err(); err != nil {
		return Ingest{}, fmt.Errorf("bench: interrupted: %w", err)
	}
	in := ingestOf(t, elapsed)
	if watch != nil {
		fmt.Fprintf(stderr, "bench: load done; waiting for the events of %d visits\n", len(t.sent))
		e := watch.drain(ctx, t.sent, o.QuietAfterLoad, o.Drain)
		r.EndToEnd = &e
	}
	return in, nil
}

// boundsSample is how many of the run's Bundles the bounds cycle over.
const boundsSample = 500

// runBounds measures the bounds over the first Bundles the load sent.
func runBounds(ctx context.Context, o *Options, gen *generator, in Ingest) Bounds {
	var b Bounds
	if o.BoundsDuration <= 0 {
		return b
	}
	n := min(max(in.BundlesSent, 50), boundsSample)
	bundles := make([][]byte, n)
	for i := range bundles {
		bundles[i] = gen.Visit(int64(i)).Body
	}
	b.Parse = parseBound(ctx, bundles, o.Concurrency, o.BoundsDuration)
	if o.DatabaseURL != "" {
		b.Postgres = postgresBound(ctx, o.DatabaseURL, bundles, o.Concurrency, o.BoundsDuration)
	}
	for _, x := range []*Bound{b.Parse, b.Postgres} {
		if x != nil && x.Error == "" && x.PerSecond > 0 {
			x.ServiceShare = in.ResourcesPerSec / x.PerSecond
		}
	}
	return b
}

// finish writes and prints the report (and its changes from old, if any),
// and fails the command when nothing was accepted.
func (r *Report) finish(o *Options, old *Report, stdout io.Writer) error {
	if o.Out != "" {
		if err := r.writeJSON(o.Out); err != nil {
			return err
		}
	}
	r.printSummary(stdout)
	if old != nil {
		r.printCompare(stdout, old, o.Compare)
	}
	if r.Load.BundlesAccepted == 0 {
		return fmt.Errorf("bench: no Bundle was accepted (%s)", fmtErrors(r.Load.Errors))
	}
	return nil
}
