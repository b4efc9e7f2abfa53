package postgres_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"testing"

	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Run(m)) }

func TestMigrationsApplyAndAreIdempotent(t *testing.T) {
	db := pgtest.New(t) // already migrated from the template
	ctx := context.Background()
	n, err := postgres.Migrate(ctx, db.DB)
	if err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	if n != 0 {
		t.Errorf("second Migrate applied %d migrations, want 0", n)
	}
	v, err := postgres.SchemaVersion(ctx, db.DB)
	if err != nil || v < 1 {
		t.Fatalf("SchemaVersion = %d, %v", v, err)
	}
}

func TestMigrationsOnEmptyDatabase(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	// Start from nothing: drop the public schema the template gave us.
	if _, err := db.ExecContext(ctx, `DROP SCHEMA public CASCADE; CREATE SCHEMA public`); err != nil {
		t.Fatal(err)
	}
	n, err := postgres.Migrate(ctx, db.DB)
	if err != nil || n < 1 {
		t.Fatalf("Migrate on empty db = %d, %v", n, err)
	}
	var exists bool
	if err := db.QueryRowContext(ctx, `SELECT to_regclass('public.audit_log') IS NOT NULL`).Scan(&exists); err != nil || !exists {
		t.Fatalf("audit_log missing after migrate: %v", err)
	}
}

func TestTransactCommitsAndRollsBack(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE TABLE t (v int)`); err != nil {
		t.Fatal(err)
	}
	insert := func(tx *sql.Tx, v int) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO t VALUES ($1)`, v)
		return err
	}
	if err := db.Transact(ctx, nil, func(tx *sql.Tx) error { return insert(tx, 1) }); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if err := db.Transact(ctx, nil, func(tx *sql.Tx) error {
		if err := insert(tx, 2); err != nil {
			return err
		}
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("Transact error = %v, want boom", err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("panic was swallowed")
			}
		}()
		_ = db.Transact(ctx, nil, func(tx *sql.Tx) error {
			_ = insert(tx, 3)
			panic("kaboom")
		})
	}()
	var got []int
	rows, err := db.QueryContext(ctx, `SELECT v FROM t ORDER BY v`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
	}
	if len(got) != 1 || got[0] != 1 {
		t.Fatalf("rows = %v, want [1]: error and panic must roll back", got)
	}
}

// A database that has later migrations but lacks an earlier one (a build
// that landed out of order) gets the missing one instead of a refusal.
func TestMigrationsOutOfOrder(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `DROP TABLE inbound_messages; DELETE FROM goose_db_version WHERE version_id = 11`); err != nil {
		t.Fatal(err)
	}
	n, err := postgres.Migrate(ctx, db.DB)
	if err != nil || n != 1 {
		t.Fatalf("Migrate = %d, %v; want the one missing migration applied", n, err)
	}
	var exists bool
	if err := db.QueryRowContext(ctx, `SELECT to_regclass('public.inbound_messages') IS NOT NULL`).Scan(&exists); err != nil || !exists {
		t.Fatalf("inbound_messages missing after migrate: %v", err)
	}
}
