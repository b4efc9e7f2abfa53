package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/codebridge/codebridge/adapters/httpapi"
	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/mapping/codes"
)

// newCodesCmd is `codebridge codes load|list|load-bundled`.
func newCodesCmd(getenv func(string) string, g *globalFlags, stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "codes",
		Short: "Load and list code sets and claim-edit tables (ICD-10-CM/PCS, HCPCS, CPT, MUE, PTP, POA-exempt)",
	}
	cmd.AddCommand(newCodesLoadCmd(getenv, g, stdout, stderr), newCodesListCmd(getenv, g, stdout),
		newCodesLoadBundledCmd(getenv, g, stdout), newCodesFetchCmd(getenv, g, stdout, stderr))
	return cmd
}

func newCodesLoadCmd(getenv func(string) string, g *globalFlags, stdout, stderr io.Writer) *cobra.Command {
	var system, version, addenda string
	cmd := &cobra.Command{
		Use:   "load --system SYSTEM --version VERSION (FILE | --addenda ADDENDA)",
		Short: "Load one release from its official file (idempotent; replaces a release of the same version)",
		Long: `Load one release of a code set or edit table from the file as its publisher
distributes it: icd10cm and icd10pcs order files, hcpcs ANWEB .xlsx (or its
CSV dump), mue and ptp CMS tables, cpt lists, the poaexempt list,
icd10cm-tabular, the ICD-10-CM Tabular List XML (icd10cm_tabular_2027.xml from
the CMS "Code Tables, Tabular and Index" zip: its Excludes1, code first, use
additional code and 7th-character instructions), and mce (the CMS "Definitions
of Medicare Code Edits" text file, or its JSON extraction). VERSION names the
release and its dates of service: FY2026 for ICD-10, POA-exempt and the
Tabular List, 2026Q2 or 2025-Oct for HCPCS, MUE and PTP, 2026 for CPT, 43.1
for MCE (vNN is FY(NN-17), vNN.1 its April update).

With --addenda, an ICD-10-CM fiscal year is derived instead from the loaded
release of the year before and the official order-file addenda CMS publishes
with it (icd10cm_order_addenda_2027.txt), checked against the counts of the
addenda's footer; nothing is loaded when they do not match.`,
		Args: cobra.RangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rel, err := loadRelease(system, version)
			if err != nil {
				return err
			}
			if addenda != "" {
				return loadAddendaCmd(cmd.Context(), getenv, g, rel, addenda, args, stdout, stderr)
			}
			if len(args) != 1 {
				return fmt.Errorf("codes load: the file to load is required (or --addenda for an ICD-10-CM addenda)")
			}
			return withCodeStore(cmd.Context(), getenv, g, func(s *postgres.CodeStore) error {
				return loadCodesFile(cmd.Context(), s, rel, args[0], stdout, stderr)
			})
		},
	}
	cmd.Flags().StringVar(&system, "system", "", "icd10cm|icd10pcs|hcpcs|mue|ptp|cpt|poaexempt|icd10cm-tabular|mce (required)")
	cmd.Flags().StringVar(&version, "version", "", "release version, e.g. FY2026, 2026Q2, 2025-Oct, 43.1 (required)")
	cmd.Flags().StringVar(&addenda, "addenda", "", "icd10cm only: derive VERSION from the loaded previous fiscal year and this order-file addenda (icd10cm_order_addenda_YYYY.txt)")
	_ = cmd.MarkFlagRequired("system")
	_ = cmd.MarkFlagRequired("version")
	return cmd
}

// loadRelease checks --system and --version.
func loadRelease(system, version string) (codes.Release, error) {
	sys, err := codes.ParseSystem(system)
	if err != nil || sys == codes.HCPCSModifier {
		return codes.Release{}, fmt.Errorf("--system %q: want icd10cm, icd10pcs, hcpcs, mue, ptp, cpt, poaexempt, icd10cm-tabular or mce", system)
	}
	rel, err := codes.NewRelease(sys, version)
	if err != nil {
		return codes.Release{}, fmt.Errorf("--version: %w", err)
	}
	return rel, nil
}

// loadCodesFile loads path with a progress bar on stderr (a terminal; a
// plain line otherwise) and a summary line on stdout.
func loadCodesFile(ctx context.Context, s *postgres.CodeStore, rel codes.Release, path string, stdout, stderr io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	start := time.Now()
	progress, done := loadProgress(stderr, rel, filepath.Base(path))
	res, err := s.LoadRelease(ctx, rel, f, progress)
	done()
	if err != nil {
		return fmt.Errorf("%s not loaded as %s %s; nothing changed: %w", filepath.Base(path), rel.System, rel.Version, err)
	}
	if res.Unchanged {
		fmt.Fprintf(stdout, "%s already loaded from identical content (%d records); nothing changed\n", rel, res.Rows)
		return nil
	}
	fmt.Fprintf(stdout, "loaded %s: %d records from %s in %s\n", rel, res.Rows, filepath.Base(path),
		time.Since(start).Round(time.Millisecond))
	return nil
}

// loadProgress reports the load of rel from name on w: a progress bar of
// the records read when w is a terminal; otherwise one plain line, so a
// log or a pipe gets no carriage-return frames (as downloadProgress).
func loadProgress(w io.Writer, rel codes.Release, name string) (progress func(int), done func()) {
	if !isTerminal(w) {
		fmt.Fprintf(w, "loading %s %s from %s\n", rel.System, rel.Version, name)
		return func(int) {}, func() {}
	}
	bar := progressbar.NewOptions(-1, progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(fmt.Sprintf("loading %s %s", rel.System, rel.Version)),
		progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("records"),
		progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish(),
		// No spinner ticker: progressbar's ticker goroutine reads the bar's
		// state without its lock (a data race under -race); the bar redraws
		// on each Set instead.
		progressbar.OptionSetSpinnerChangeInterval(0))
	return func(n int) { _ = bar.Set(n) }, func() { _ = bar.Finish() }
}

func newCodesListCmd(getenv func(string) string, g *globalFlags, stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the loaded releases",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withCodeStore(cmd.Context(), getenv, g, func(s *postgres.CodeStore) error {
				rels, err := s.ListReleases(cmd.Context())
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "SYSTEM\tVERSION\tFROM\tTO\tROWS\tBILLABLE\tLOADED\tSOURCE")
				for _, r := range rels {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", r.System, r.Version, r.From.Format(time.DateOnly),
						r.To.Format(time.DateOnly), r.Rows, billableColumn(r), r.LoadedAt.UTC().Format(time.RFC3339), r.Source)
				}
				return tw.Flush()
			})
		},
	}
}

func newCodesLoadBundledCmd(getenv func(string) string, g *globalFlags, stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "load-bundled",
		Short: "Load the code sets bundled in codebridge (ICD-10-CM/PCS, POA-exempt, HCPCS, the MUE extract) whose dates no loaded release covers yet",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withCodeStore(cmd.Context(), getenv, g, func(s *postgres.CodeStore) error {
				loaded, err := s.LoadBundled(cmd.Context())
				for _, l := range loaded {
					fmt.Fprintf(stdout, "loaded %s: %d records from %s in %s\n", l.Release, l.Rows, l.Name, l.Duration.Round(time.Millisecond))
				}
				if err == nil && len(loaded) == 0 {
					fmt.Fprintln(stdout, "every bundled code set is already loaded")
				}
				return err
			})
		},
	}
}

// withCodeStore opens CODEBRIDGE_DATABASE_URL, applies migrations and runs
// fn with a CodeStore on it.
func withCodeStore(ctx context.Context, getenv func(string) string, g *globalFlags, fn func(*postgres.CodeStore) error) error {
	cfg, err := loadConfig(getenv, g)
	if err != nil {
		return err
	}
	if cfg.DatabaseURL == "" {
		return fmt.Errorf("CODEBRIDGE_DATABASE_URL: required")
	}
	db, err := postgres.Open(ctx, cfg.DatabaseURL, postgres.Options{MaxOpenConns: 2, StatementCache: cfg.StatementCacheSize()})
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := postgres.Migrate(ctx, db.DB); err != nil {
		return err
	}
	return fn(postgres.NewCodeStore(db))
}

// registerCodes has setupHTTP add the code search routes before it serves.
func (m *Main) registerCodes() {
	store := postgres.NewCodeStore(m.DB)
	m.routes = append(m.routes, func(s *httpapi.Server) { httpapi.RegisterCodes(s, codeSearcher{store}) })
}

// loadBundledCodes loads the bundled code sets not loaded yet (one query
// when all are) and logs what it loaded and how long it took.
func loadBundledCodes(ctx context.Context, m *Main) error {
	start := time.Now()
	loaded, err := postgres.NewCodeStore(m.DB).LoadBundled(ctx)
	for _, l := range loaded {
		m.Logger.Info("code set loaded", "system", l.Release.System, "version", l.Release.Version,
			"file", l.Name, "records", l.Rows, "duration_ms", l.Duration.Milliseconds())
	}
	if err != nil {
		return fmt.Errorf("loading bundled code sets: %w", err)
	}
	m.Logger.Info("bundled code sets ready", "loaded", len(loaded), "duration_ms", time.Since(start).Milliseconds())
	return nil
}

// codeSearcher adapts the PostgreSQL code store to httpapi.CodeSearcher.
type codeSearcher struct{ s *postgres.CodeStore }

func (c codeSearcher) Search(ctx context.Context, system codes.System, q string, date time.Time, limit int) (httpapi.CodeResults, error) {
	res, err := c.s.SearchCodes(ctx, system, q, date, limit)
	if err != nil {
		return httpapi.CodeResults{}, err
	}
	out := httpapi.CodeResults{Release: res.Release, InForce: res.InForce, Hits: make([]httpapi.CodeHit, len(res.Hits))}
	for i, h := range res.Hits {
		out.Hits[i] = httpapi.CodeHit{System: string(h.System), Code: h.Display, Display: h.Title, Billable: h.Billable,
			Terminated: dateOnly(h.Terminated), Effective: dateOnly(h.Effective)}
	}
	return out, nil
}

// dateOnly is t as YYYY-MM-DD, or "" for the zero time.
func dateOnly(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.DateOnly)
}

func (c codeSearcher) Releases(ctx context.Context) ([]httpapi.CodeRelease, error) {
	rels, err := c.s.ListReleases(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]httpapi.CodeRelease, len(rels))
	for i, r := range rels {
		out[i] = httpapi.CodeRelease{System: string(r.System), Version: r.Version, From: r.From.Format(time.DateOnly),
			To: r.To.Format(time.DateOnly), LoadedAt: r.LoadedAt, Rows: r.Rows, Billable: r.Billable, Source: r.Source, SHA256: r.SHA256}
	}
	return out, nil
}
