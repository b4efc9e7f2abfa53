package main

import (
	"context"
	"io"

	"github.com/spf13/cobra"

	"github.com/codebridge/codebridge/cmd/codebridge-bench/bench"
	"github.com/codebridge/codebridge/config"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// runFunc runs the harness; main passes bench.Run, tests a recorder.
type runFunc func(ctx context.Context, o bench.Options, stdout, stderr io.Writer) error

const long = `codebridge-bench POSTs synthetic transaction Bundles (telehealth, office, ED
and inpatient visits: Patient, Coverage, Organization, Practitioner, a finished
Encounter, 1-6 Conditions with ICD-10-CM and SNOMED CT codings, 0-4 Procedures
with CPT, HCPCS or ICD-10-PCS codes and a DocumentReference with the note,
dated in FY2026) to a running codebridge from --concurrency clients for
--duration, printing progress on stderr and a summary on stdout:
resources/s, Bundles/s, latency percentiles and errors by HTTP status.

With --brokers it reads the status and claims topics from their end offsets
at start and reports ingest -> "ready" status event and ingest -> Claim
latency. Afterwards it measures two bounds on this machine over the same
Bundles: the validating FHIR parse alone, and (with --database-url) raw
PostgreSQL COPY of the same resources into a scratch schema that is dropped
at the end; the report gives the service's throughput as a share of each.

--preload N first stores about N resources in large transaction Bundles and
reports how long that took, for comparing throughput on an empty database
with throughput after growth. --out writes the report as JSON; --compare
prints the changes from an earlier report.`

// newRootCmd builds the codebridge-bench command: the load run, and the
// compare subcommand. The topics default to the service's configuration
// (--config, then CODEBRIDGE_STATUS_TOPIC and CODEBRIDGE_CLAIMS_TOPIC read
// through getenv).
func newRootCmd(getenv func(string) string, stdout, stderr io.Writer, run runFunc) *cobra.Command {
	o := bench.DefaultOptions()
	o.Version = buildVersion()
	var configFile string
	cmd := &cobra.Command{
		Use:           "codebridge-bench",
		Short:         "Load a running codebridge with synthetic visits and report throughput, latency, end-to-end Kafka latency and this machine's bounds",
		Long:          long,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(getenv, configFile)
			if err != nil {
				return err
			}
			if o.StatusTopic == "" {
				o.StatusTopic = cfg.StatusTopic
			}
			if o.ClaimsTopic == "" {
				o.ClaimsTopic = cfg.ClaimsTopic
			}
			return run(cmd.Context(), o, stdout, stderr)
		},
	}
	cmd.SetOut(stdout)
	cmd.SetErr(stderr)
	cmd.PersistentFlags().StringVar(&configFile, "config", "", "codebridge YAML configuration file, for the default topics (environment variables win)")
	registerFlags(cmd, &o)
	cmd.AddCommand(newCompareCmd(stdout))
	return cmd
}

// registerFlags binds the flags of a run to o, whose values are the
// defaults.
func registerFlags(cmd *cobra.Command, o *bench.Options) {
	f := cmd.Flags()
	f.StringVar(&o.URL, "url", o.URL, "base URL of the running codebridge")
	f.StringVar(&o.Token, "token", o.Token, "bearer token with the ehr (or admin) role (required)")
	f.IntVar(&o.Concurrency, "concurrency", o.Concurrency, "concurrent clients, and goroutines of each bound")
	f.DurationVar(&o.Duration, "duration", o.Duration, "how long to send load")
	f.StringVar(&o.Mix, "mix", o.Mix, "share of each kind of visit")
	f.Uint64Var(&o.Seed, "seed", o.Seed, "generator seed: the same seed sends the same visits (with fresh MRNs)")
	f.StringVar(&o.Brokers, "brokers", o.Brokers, "Kafka bootstrap brokers the service publishes to (comma-separated); enables end-to-end latency")
	f.StringVar(&o.StatusTopic, "status-topic", o.StatusTopic, "status topic (default: CODEBRIDGE_STATUS_TOPIC or codebridge.workitem.status)")
	f.StringVar(&o.ClaimsTopic, "claims-topic", o.ClaimsTopic, "claims topic (default: CODEBRIDGE_CLAIMS_TOPIC or codebridge.claims)")
	f.StringVar(&o.DatabaseURL, "database-url", o.DatabaseURL, "PostgreSQL URL for the raw-insert bound (a scratch schema is created and dropped)")
	f.StringVar(&o.Out, "out", o.Out, "write the report as JSON to this file")
	f.StringVar(&o.Compare, "compare", o.Compare, "an earlier JSON report to print the changes from")
	f.DurationVar(&o.BoundsDuration, "bounds-duration", o.BoundsDuration, "how long to measure each bound (0 skips them)")
	f.DurationVar(&o.Drain, "drain", o.Drain, "how long at most to wait for events after the load")
	f.DurationVar(&o.Settle, "settle", o.Settle, "how long at most to wait after a preload for the service's events to stop")
	f.DurationVar(&o.Progress, "progress", o.Progress, "progress line interval on stderr (0: none)")
	f.IntVar(&o.Preload, "preload", o.Preload, "store about this many resources before measuring")
	f.IntVar(&o.PreloadBatch, "preload-batch", o.PreloadBatch, "resources per preload Bundle (whole visits, about 10 resources each)")
	f.IntVar(&o.PreloadConcurrency, "preload-concurrency", o.PreloadConcurrency, "concurrent clients of the preload")
}

func newCompareCmd(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "compare OLD.json NEW.json",
		Short: "Print the changes between two codebridge-bench reports",
		Args:  cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			return bench.Compare(stdout, args[0], args[1])
		},
	}
}

// buildVersion answers the version set at build time, else the module's,
// else "dev".
func buildVersion() string { return config.Version(version) }
