package main

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/config"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// globalFlags are shared by every subcommand.
type globalFlags struct {
	configFile string
}

func newRootCmd(getenv func(string) string, stdout, stderr io.Writer) *cobra.Command {
	g := &globalFlags{}
	root := &cobra.Command{
		Use:           "codebridge",
		Short:         "FHIR R4 encounters in, coded FHIR Claims out: the hub between EHRs and medical coding",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().StringVar(&g.configFile, "config", "", "YAML configuration file (environment variables win)")
	root.AddCommand(
		newServeCmd(getenv, g, stdout, stderr),
		newDevCmd(getenv, g, stdout, stderr),
		newMigrateCmd(getenv, g, stderr),
		newVersionCmd(stdout),
		newHealthcheckCmd(getenv, g, stdout),
		newImportCmd(getenv, g, stdout, stderr),
		newCodesCmd(getenv, g, stdout, stderr),
	)
	return root
}

func loadConfig(getenv func(string) string, g *globalFlags) (config.Config, error) {
	return config.Load(getenv, g.configFile)
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

func newServeCmd(getenv func(string) string, g *globalFlags, stdout, stderr io.Writer) *cobra.Command {
	var insecure bool
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the service: HTTP API, outbox relay to Kafka, Claim delivery (applies migrations first)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(getenv, g)
			if err != nil {
				return err
			}
			cfg.InsecureNoAuth = insecure
			if err := cfg.Validate(); err != nil {
				return err
			}
			m := &Main{Config: cfg, Logger: newLogger(stderr, cfg.LogLevel), Stdout: stdout}
			return m.Run(cmd.Context())
		},
	}
	cmd.Flags().BoolVar(&insecure, "insecure-no-auth", false, "serve without authentication (every caller is admin); for throwaway setups only")
	return cmd
}

func newMigrateCmd(getenv func(string) string, g *globalFlags, stderr io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply pending database migrations and exit",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(getenv, g)
			if err != nil {
				return err
			}
			if cfg.DatabaseURL == "" {
				return fmt.Errorf("CODEBRIDGE_DATABASE_URL: required")
			}
			db, err := postgres.Open(cmd.Context(), cfg.DatabaseURL, postgres.Options{MaxOpenConns: 2, StatementCache: cfg.StatementCacheSize()})
			if err != nil {
				return err
			}
			defer db.Close()
			n, err := postgres.Migrate(cmd.Context(), db.DB)
			if err != nil {
				return err
			}
			v, _ := postgres.SchemaVersion(cmd.Context(), db.DB)
			newLogger(stderr, cfg.LogLevel).Info("migrations applied", "applied", n, "schema_version", v)
			return nil
		},
	}
}

func newVersionCmd(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(*cobra.Command, []string) {
			fmt.Fprintf(stdout, "codebridge %s\n", buildVersion())
		},
	}
}

// buildVersion answers the version set at build time, else the module's,
// else "dev".
func buildVersion() string { return config.Version(version) }
