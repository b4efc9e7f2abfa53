// Package pgtest gives each test its own migrated PostgreSQL database.
//
// The server comes from pglocal (CODEBRIDGE_TEST_DATABASE_URL, then
// 127.0.0.1:5432, then a private throwaway cluster). The first database a
// test binary asks for becomes a migrated template; every test then gets a
// fast `CREATE DATABASE ... TEMPLATE` clone that is dropped when the test
// ends, so packages and tests run in parallel without sharing state.
//
// Without a server the tests skip, except under CI=true, where they fail:
// CI must never pass by skipping the database.
//
// Packages that use it call Run from TestMain so a private cluster and the
// template are removed at the end.
package pgtest

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"sync"
	"testing"

	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/adapters/postgres/pglocal"
)

var (
	mu       sync.Mutex
	server   *pglocal.Server
	findErr  error
	found    bool
	template string
	admin    *sql.DB

	// codesTemplate is a clone of template with the bundled code sets
	// loaded (NewURLWithBundledCodes); codesErr is why it could not be
	// made.
	codesTemplate string
	codesErr      error
)

// Run runs the tests and then tears down what pgtest started.
func Run(m *testing.M) int {
	code := m.Run()
	mu.Lock()
	defer mu.Unlock()
	for _, tpl := range []string{codesTemplate, template} {
		if admin != nil && tpl != "" {
			_, _ = admin.Exec(`DROP DATABASE IF EXISTS ` + quote(tpl) + ` WITH (FORCE)`)
		}
	}
	if admin != nil {
		admin.Close()
	}
	if err := server.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "pgtest: stopping private PostgreSQL:", err)
	}
	return code
}

// ServerURL returns the admin URL of the test server, skipping (or, under
// CI=true, failing) the test when none can be had.
func ServerURL(t testing.TB) string {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if !found {
		found = true
		log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		server, findErr = pglocal.Find(context.Background(), os.Getenv("CODEBRIDGE_TEST_DATABASE_URL"), log)
		if findErr == nil {
			admin, findErr = sql.Open("postgres", server.URL)
		}
	}
	if findErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("pgtest: no PostgreSQL reachable and CI=true: %v", findErr)
		}
		t.Skipf("pgtest: no PostgreSQL reachable: %v", findErr)
	}
	return server.URL
}

// NewURL creates a fresh migrated database and returns its URL; the database
// is dropped when the test ends.
func NewURL(t testing.TB) string {
	t.Helper()
	return newURL(t, false)
}

// NewURLWithBundledCodes is NewURL with the code sets bundled in codebridge
// already loaded (postgres.CodeStore.LoadBundled: ICD-10-CM FY2026 and the
// FY2027 derived from the addenda, ICD-10-PCS, POA-exempt, HCPCS, the MUE
// extract, the MCE lists). They are loaded once per test binary into a
// second template and cloned, which is much faster than loading them in
// every test that needs code sets in force. Tests of loading itself use
// NewURL.
func NewURLWithBundledCodes(t testing.TB) string {
	t.Helper()
	return newURL(t, true)
}

// newURL clones the migrated template, or the one with the bundled code
// sets, making it first if need be.
func newURL(t testing.TB, withCodes bool) string {
	t.Helper()
	base := ServerURL(t)
	mu.Lock()
	defer mu.Unlock()
	ctx := context.Background()
	if err := ensureTemplate(ctx, base); err != nil {
		t.Fatalf("pgtest: template: %v", err)
	}
	if !withCodes {
		return cloneLocked(t, base, template)
	}
	if codesTemplate == "" && codesErr == nil {
		name := fmt.Sprintf("cbtplcodes_%d_%d", os.Getpid(), rand.IntN(1e9))
		codesErr = createWithBundledCodes(ctx, base, name)
		if codesErr == nil {
			codesTemplate = name
		} else {
			_, _ = admin.Exec(`DROP DATABASE IF EXISTS ` + quote(name) + ` WITH (FORCE)`)
		}
	}
	if codesErr != nil {
		t.Fatalf("pgtest: template with bundled code sets: %v", codesErr)
	}
	return cloneLocked(t, base, codesTemplate)
}

// ensureTemplate makes the migrated template once; mu is held.
func ensureTemplate(ctx context.Context, base string) error {
	if template != "" {
		return nil
	}
	name := fmt.Sprintf("cbtpl_%d_%d", os.Getpid(), rand.IntN(1e9))
	if err := createMigrated(ctx, base, name); err != nil {
		return err
	}
	template = name
	return nil
}

// createWithBundledCodes clones the migrated template as name and loads
// the bundled code sets into it; no connection to it stays open, so it
// can serve as a template.
func createWithBundledCodes(ctx context.Context, base, name string) error {
	if err := createFrom(ctx, name, template); err != nil {
		return err
	}
	db, err := postgres.Open(ctx, withDatabase(base, name), postgres.Options{MaxOpenConns: 2})
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = postgres.NewCodeStore(db).LoadBundled(ctx)
	return err
}

// createFrom creates database name as a copy of tpl: by file copy where
// the server has it (PostgreSQL 15+; much faster than WAL_LOG for a
// template holding the code sets), else the server's default strategy.
func createFrom(ctx context.Context, name, tpl string) error {
	_, err := admin.ExecContext(ctx, `CREATE DATABASE `+quote(name)+` TEMPLATE `+quote(tpl)+` STRATEGY FILE_COPY`)
	if err != nil {
		_, err = admin.ExecContext(ctx, `CREATE DATABASE `+quote(name)+` TEMPLATE `+quote(tpl))
	}
	return err
}

// cloneLocked creates a fresh copy of tpl dropped when the test ends; mu
// is held.
func cloneLocked(t testing.TB, base, tpl string) string {
	t.Helper()
	name := fmt.Sprintf("cbtest_%d_%d", os.Getpid(), rand.IntN(1e9))
	if err := createFrom(context.Background(), name, tpl); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec(`DROP DATABASE IF EXISTS ` + quote(name) + ` WITH (FORCE)`); err != nil {
			t.Logf("pgtest: drop %s: %v", name, err)
		}
	})
	return withDatabase(base, name)
}

// New returns an open handle on a fresh migrated database.
func New(t testing.TB) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), NewURL(t), postgres.Options{MaxOpenConns: 20})
	if err != nil {
		t.Fatalf("pgtest: open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func createMigrated(ctx context.Context, base, name string) error {
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+quote(name)); err != nil {
		return err
	}
	db, err := sql.Open("postgres", withDatabase(base, name))
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = postgres.Migrate(ctx, db)
	return err
}

func withDatabase(base, name string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	u.Path = "/" + name
	return u.String()
}

func quote(ident string) string { return `"` + ident + `"` }
