package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/lib/pq"
	"github.com/spf13/cobra"

	"github.com/codebridge/codebridge/adapters/postgres/pglocal"
	"github.com/codebridge/codebridge/config"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// devDatabase is the database `codebridge dev` uses on a shared local server,
// so it never writes into the server's own "postgres" database.
const devDatabase = "codebridge_dev"

func newDevCmd(getenv func(string) string, g *globalFlags, stdout, stderr io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "dev",
		Short: "Batteries-included local mode: finds or starts PostgreSQL, embedded Kafka, sample data, dev tokens",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(getenv, g)
			if err != nil {
				return err
			}
			log := newLogger(stderr, cfg.LogLevel)
			ctx := cmd.Context()
			srv, err := pglocal.Find(ctx, cfg.DatabaseURL, log)
			if err != nil {
				return err
			}
			defer func() {
				if err := srv.Stop(); err != nil {
					log.Warn("stopping private PostgreSQL", "error", err.Error())
				}
			}()
			if cfg.DatabaseURL, err = devDatabaseURL(ctx, srv); err != nil {
				return err
			}
			if len(cfg.Tokens) == 0 {
				cfg.Tokens = devTokens()
			}
			m := &Main{Config: cfg, Logger: log, Stdout: stdout, deferCoverageWarn: true}
			if err := m.Start(ctx); err != nil {
				return errors.Join(err, m.Close(context.Background()))
			}
			printDevBanner(stdout, m, srv.Source)
			// Code sets first (the first start loads ~180,000 codes, about 20 s),
			// then the samples, so straight-through coding sees them in force.
			if err := loadBundledCodes(ctx, m); err != nil {
				return errors.Join(err, m.Close(context.Background()))
			}
			m.warnCodeSetCoverage(ctx)
			if n, err := m.loadSamples(ctx); err != nil {
				log.Warn("loading sample data failed", "error", err.Error())
			} else if n > 0 {
				log.Info("sample data loaded", "bundles", n)
				fmt.Fprintf(stdout, "Sample data loaded: %d encounter(s); see %s/api/v1/work-items\n", n, "http://"+m.Addr)
			}
			return m.wait(ctx)
		},
	}
}

// devDatabaseURL returns the URL to use: the explicit URL as is, or a
// codebridge_dev database created on the local or private server.
func devDatabaseURL(ctx context.Context, srv *pglocal.Server) (string, error) {
	if srv.Source == "env" {
		return srv.URL, nil
	}
	db, err := sql.Open("postgres", srv.URL)
	if err != nil {
		return "", err
	}
	defer db.Close()
	var exists bool
	if err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, devDatabase).Scan(&exists); err != nil {
		return "", err
	}
	if !exists {
		if _, err := db.ExecContext(ctx, `CREATE DATABASE `+pq.QuoteIdentifier(devDatabase)); err != nil {
			return "", fmt.Errorf("create %s: %w", devDatabase, err)
		}
	}
	u, err := url.Parse(srv.URL)
	if err != nil {
		return "", err
	}
	u.Path = "/" + devDatabase
	return u.String(), nil
}

// devTokens makes one random token per role, fresh at every start.
func devTokens() []config.Token {
	var out []config.Token
	for _, r := range workitem.Roles() {
		role := string(r)
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		out = append(out, config.Token{Name: "dev-" + role, Role: r, Value: "dev-" + role + "-" + hex.EncodeToString(b)})
	}
	return out
}

func printDevBanner(w io.Writer, m *Main, pgSource string) {
	base := "http://" + m.Addr
	var b strings.Builder
	fmt.Fprintf(&b, "\ncodebridge dev is running (PostgreSQL: %s, database %s)\n\n", pgSource, config.RedactURL(m.Config.DatabaseURL))
	fmt.Fprintf(&b, "  Workbench   %s/ui/  (sign in with the coder or auditor token)\n", base)
	fmt.Fprintf(&b, "  FHIR API    %s/fhir\n  Coding API  %s/api/v1\n  Health      %s/readyz\n  Metrics     %s/metrics\n", base, base, base, base)
	if m.MLLPAddr != "" {
		fmt.Fprintf(&b, "  HL7 v2      mllp://%s\n", m.MLLPAddr)
	}
	if m.KafkaAddr != "" {
		fmt.Fprintf(&b, "  Kafka       %s (embedded broker)\n", m.KafkaAddr)
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "Dev tokens (new at every start):\n")
	var coder string
	for _, t := range m.Config.Tokens {
		fmt.Fprintf(&b, "  %-8s %s\n", t.Role, t.Value)
		if t.Role == workitem.RoleCoder {
			coder = t.Value
		}
	}
	if coder == "" && len(m.Config.Tokens) > 0 {
		coder = m.Config.Tokens[0].Value
	}
	fmt.Fprintf(&b, "\nBundled code sets and sample data load in the background (the first start takes ~20 s).\n")
	fmt.Fprintf(&b, "\nTry it:\n  curl -s -H 'Authorization: Bearer %s' %s/api/v1/whoami\n\nPress Ctrl-C to stop.\n", coder, base)
	fmt.Fprint(w, b.String())
}
