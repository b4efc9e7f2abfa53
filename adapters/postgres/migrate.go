package postgres

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrate applies every pending migration, including any numbered below the
// newest applied one, and reports how many it applied.
// It is safe to run from several processes at once: a session advisory lock
// serialises them.
func Migrate(ctx context.Context, db *sql.DB) (applied int, err error) {
	p, err := newProvider(db)
	if err != nil {
		return 0, err
	}
	res, err := p.Up(ctx)
	if err != nil {
		return len(res), fmt.Errorf("postgres.Migrate: %w", err)
	}
	return len(res), nil
}

// SchemaVersion reports the newest applied migration version.
func SchemaVersion(ctx context.Context, db *sql.DB) (int64, error) {
	p, err := newProvider(db)
	if err != nil {
		return 0, err
	}
	return p.GetDBVersion(ctx)
}

func newProvider(db *sql.DB) (*goose.Provider, error) {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, err
	}
	// Out-of-order: a database that ran a build whose migrations were
	// numbered later than one added since (development branches landing in
	// another order) still gets the missing one applied instead of refusing
	// to start. Each migration is forward-only and independent of those
	// numbered after it, so the order they reach a database in is safe.
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub, goose.WithSessionLocker(locker), goose.WithAllowOutofOrder(true))
	if err != nil {
		return nil, fmt.Errorf("postgres: migrations: %w", err)
	}
	return p, nil
}
