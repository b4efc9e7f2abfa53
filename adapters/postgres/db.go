package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strings"
	"time"

	"github.com/lib/pq"
)

// DB is the database handle shared by the store's parts.
type DB struct {
	*sql.DB
}

// Options tune the connection pool.
type Options struct {
	MaxOpenConns int
	// StatementCache is the number of prepared statements each connection
	// keeps (see stmtcache.go); 0 means DefaultStatementCache, negative
	// turns the cache off.
	StatementCache int
}

// Open connects to url and checks the connection.
func Open(ctx context.Context, url string, o Options) (*DB, error) {
	cfg, err := pq.NewConfig(url)
	if err != nil {
		// lib/pq's parse errors quote the URL, password included: never pass them on.
		return nil, fmt.Errorf("postgres.Open: the database URL is malformed")
	}
	// One round trip per statement instead of two: lib/pq otherwise sends
	// Parse+Describe+Sync, waits, then Bind+Execute+Sync (BENCHMARKS.md,
	// third session, has the before/after). The price: a []byte
	// argument travels in binary format, so JSON for a jsonb column must be
	// passed as a string (jsonArg), never as []byte.
	cfg.BinaryParameters = true
	connector, err := pq.NewConnectorConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres.Open: the database URL is malformed")
	}
	var sqlDB *sql.DB
	switch {
	case o.StatementCache < 0:
		sqlDB = sql.OpenDB(connector)
	case o.StatementCache == 0:
		sqlDB = sql.OpenDB(&cachingConnector{base: connector, size: DefaultStatementCache})
	default:
		sqlDB = sql.OpenDB(&cachingConnector{base: connector, size: o.StatementCache})
	}
	if o.MaxOpenConns <= 0 {
		o.MaxOpenConns = 20
	}
	sqlDB.SetMaxOpenConns(o.MaxOpenConns)
	sqlDB.SetMaxIdleConns(o.MaxOpenConns)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	sqlDB.SetConnMaxLifetime(time.Hour)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pctx); err != nil {
		sqlDB.Close()
		if _, perr := pq.ParseURL(url); perr != nil && strings.Contains(url, "://") {
			return nil, fmt.Errorf("postgres.Open: the database URL is malformed")
		}
		return nil, fmt.Errorf("postgres.Open: %w", err)
	}
	return &DB{DB: sqlDB}, nil
}

// Transact runs fn in a transaction: it commits when fn returns nil and rolls
// back when fn returns an error or panics (the panic then continues).
func (db *DB) Transact(ctx context.Context, opts *sql.TxOptions, fn func(*sql.Tx) error) (err error) {
	tx, err := db.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = tx.Rollback()
			return
		}
		if cerr := tx.Commit(); cerr != nil {
			err = fmt.Errorf("commit: %w", cerr)
		}
	}()
	return fn(tx)
}

// jsonArg passes JSON to a jsonb parameter. With binary_parameters on (see
// Open), lib/pq sends a []byte argument in binary format, which jsonb
// refuses (it expects a version byte); as a string it travels as text.
// bytea arguments (hashes, raw resources, Kafka values) stay []byte: binary
// is both correct and cheaper for them than hex text.
type jsonArg []byte

// Value implements driver.Valuer.
func (j jsonArg) Value() (driver.Value, error) {
	if j == nil {
		return nil, nil
	}
	return string(j), nil
}

// queryer is what *sql.DB, *sql.Conn and *sql.Tx share for reads.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}
