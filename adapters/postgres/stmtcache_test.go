package postgres_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/lib/pq"

	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
)

// Tests of the per-connection prepared-statement cache (stmtcache.go).
// pg_prepared_statements is per session, so every check of it runs on the
// connection whose cache it inspects (db.Conn).

func TestStmtCacheCacheable(t *testing.T) {
	tests := []struct {
		query string
		nargs int
		want  bool
	}{
		// Anything with arguments is prepared: lib/pq would send it unnamed.
		{"SELECT $1::int", 1, true},
		{"UPDATE t SET x = $1 WHERE id = $2", 2, true},
		{"BEGIN", 1, true},
		// Argument-less single DML/queries.
		{"SELECT 1", 0, true},
		{"  select now()", 0, true},
		{"SELECT(1)", 0, true},
		{"SELECT 1;", 0, true},
		{"SELECT 1;\n", 0, true},
		{"INSERT INTO t VALUES (1)", 0, true},
		{"insert\tinto t values (1)", 0, true},
		{"UPDATE t SET x = 1", 0, true},
		{"DELETE FROM t", 0, true},
		{"WITH a AS (SELECT 1) SELECT * FROM a", 0, true},
		{"with\na as (select 1) select * from a", 0, true},
		// Transaction control, session settings, DDL, COPY, scripts.
		{"BEGIN", 0, false},
		{"COMMIT", 0, false},
		{"ROLLBACK", 0, false},
		{"SET lock_timeout = '1s'", 0, false},
		{"SET LOCAL statement_timeout = 0", 0, false},
		{"CREATE TABLE t (x int)", 0, false},
		{"CREATE TEMP TABLE t (x int)", 0, false},
		{"ALTER TABLE t ADD COLUMN y int", 0, false},
		{"DROP TABLE t", 0, false},
		{"COPY t FROM STDIN", 0, false},
		{"ANALYZE t", 0, false},
		{"SELECT 1; SELECT 2", 0, false},
		{"CREATE TEMP TABLE t(x int); INSERT INTO t VALUES (1)", 0, false},
		{"INSERT INTO t VALUES (1); INSERT INTO t VALUES (2);", 0, false},
		{"", 0, false},
		{"   ", 0, false},
	}
	for _, tt := range tests {
		if got := postgres.Cacheable(tt.query, tt.nargs); got != tt.want {
			t.Errorf("cacheable(%q, %d) = %v, want %v", tt.query, tt.nargs, got, tt.want)
		}
	}
}

// conn returns one connection of db, closed when the test ends.
func conn(t *testing.T, db *sql.DB) *sql.Conn {
	t.Helper()
	c, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// preparedCount counts the session's prepared statements whose text is one
// of queries.
func preparedCount(t *testing.T, c *sql.Conn, queries ...string) int {
	t.Helper()
	var n int
	if err := c.QueryRowContext(context.Background(), `SELECT count(*) FROM pg_prepared_statements WHERE statement = ANY($1)`,
		pq.Array(queries)).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func queryInt(t *testing.T, c *sql.Conn, query string, args ...any) int {
	t.Helper()
	var n int
	if err := c.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestStmtCachePreparesOncePerConnection(t *testing.T) {
	c := conn(t, pgtest.New(t).DB)
	const q1, q2 = `SELECT $1::int + 1`, `SELECT $1::int * 2`
	for i, arg := range []int{1, 41} {
		if got := queryInt(t, c, q1, arg); got != arg+1 {
			t.Fatalf("run %d of %q = %d, want %d", i+1, q1, got, arg+1)
		}
	}
	if n := preparedCount(t, c, q1); n != 1 {
		t.Errorf("after two runs of the same query: %d prepared statements for it, want 1", n)
	}
	if got := queryInt(t, c, q2, 21); got != 42 {
		t.Fatalf("%q = %d, want 42", q2, got)
	}
	if n := preparedCount(t, c, q1, q2); n != 2 {
		t.Errorf("after a second query: %d prepared statements for the two, want 2", n)
	}
	// Exec goes through the same cache.
	const ins = `INSERT INTO probe VALUES ($1)`
	if _, err := c.ExecContext(context.Background(), `CREATE TEMP TABLE probe (x int)`); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := c.ExecContext(context.Background(), ins, i); err != nil {
			t.Fatal(err)
		}
	}
	if n := preparedCount(t, c, ins); n != 1 {
		t.Errorf("after three execs of one insert: %d prepared statements for it, want 1", n)
	}
	if n := queryInt(t, c, `SELECT count(*) FROM probe`); n != 3 {
		t.Errorf("%d rows inserted, want 3", n)
	}
}

func TestStmtCacheEvictsLeastRecentlyUsed(t *testing.T) {
	ctx := context.Background()
	cfg, err := pq.NewConfig(pgtest.NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.BinaryParameters = true // as postgres.Open has it
	base, err := pq.NewConnectorConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(postgres.NewCachingConnector(base, 3))
	t.Cleanup(func() { db.Close() })
	c := conn(t, db)

	query := func(i int) string { return fmt.Sprintf("SELECT $1::int + %d", i) }
	runAll := func(when string) {
		t.Helper()
		for i := 1; i <= 5; i++ {
			if got := queryInt(t, c, query(i), 100); got != 100+i {
				t.Errorf("%s: %q = %d, want %d", when, query(i), got, 100+i)
			}
		}
	}
	// prepared lists the session's statements. The listing query has no
	// arguments and is a single SELECT, so it is cached too: it takes a
	// slot, evicting the least recently used statement before it runs.
	const list = `SELECT statement FROM pg_prepared_statements ORDER BY statement`
	prepared := func() []string {
		t.Helper()
		rows, err := c.QueryContext(ctx, list)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}

	runAll("first run")
	// The cache held q3, q4, q5; the listing evicted q3.
	want := []string{query(4), query(5), list}
	slices.Sort(want)
	if got := prepared(); !slices.Equal(got, want) {
		t.Errorf("prepared after 5 distinct queries with room for 3 = %q, want %q", got, want)
	}
	runAll("after eviction")
	if got := prepared(); len(got) > 3 {
		t.Errorf("%d statements prepared with room for 3: %q", len(got), got)
	}
	// A statement used again moves to the front and survives.
	queryInt(t, c, query(1), 0)
	queryInt(t, c, query(2), 0)
	queryInt(t, c, query(1), 0)
	queryInt(t, c, query(3), 0) // evicts the listing, the least recent
	queryInt(t, c, query(4), 0) // evicts 2, not 1
	got := prepared()           // evicts 1
	want = []string{query(3), query(4), list}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("prepared after reuse = %q, want %q", got, want)
	}
}

func TestStmtCacheMultiStatementScript(t *testing.T) {
	ctx := context.Background()
	c := conn(t, pgtest.New(t).DB)
	const script = `CREATE TEMP TABLE t (x int); INSERT INTO t VALUES (1); INSERT INTO t VALUES (2)`
	if _, err := c.ExecContext(ctx, script); err != nil {
		t.Fatalf("script: %v", err)
	}
	if n := queryInt(t, c, `SELECT sum(x) FROM t`); n != 3 {
		t.Errorf("sum after the script = %d, want 3", n)
	}
	// A script starting with SELECT is not prepared either (it could not be).
	rows, err := c.QueryContext(ctx, `SELECT 1; SELECT 2`)
	if err != nil {
		t.Fatalf("SELECT script: %v", err)
	}
	rows.Close()
	if n := preparedCount(t, c, script, `SELECT 1; SELECT 2`); n != 0 {
		t.Errorf("%d scripts prepared, want 0", n)
	}
}

func TestStmtCacheErrorsKeepTheConnection(t *testing.T) {
	ctx := context.Background()
	c := conn(t, pgtest.New(t).DB)
	if _, err := c.ExecContext(ctx, `CREATE TEMP TABLE u (x int PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, query string
		args        []any
	}{
		{"with arguments", `INSERT INTO u VALUES ($1)`, []any{1}},
		{"without arguments", `INSERT INTO u VALUES (1)`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := c.ExecContext(ctx, `DELETE FROM u`); err != nil {
				t.Fatal(err)
			}
			if _, err := c.ExecContext(ctx, tt.query, tt.args...); err != nil {
				t.Fatalf("first insert: %v", err)
			}
			_, err := c.ExecContext(ctx, tt.query, tt.args...)
			var pe *pq.Error
			if !errors.As(err, &pe) || pe.Code != "23505" {
				t.Fatalf("duplicate insert = %v (%T), want a *pq.Error with SQLSTATE 23505", err, err)
			}
			// The connection and the cached statement both still work.
			if n := queryInt(t, c, `SELECT count(*) FROM u`); n != 1 {
				t.Errorf("%d rows after the failed insert, want 1", n)
			}
			if tt.args != nil {
				if _, err := c.ExecContext(ctx, tt.query, 2); err != nil {
					t.Errorf("the statement after its error: %v", err)
				}
			}
		})
	}
	// A statement that fails to prepare is not cached: once its table
	// exists it runs.
	const q = `SELECT count(*) FROM later WHERE x = $1`
	_, err := c.QueryContext(ctx, q, 1)
	var pe *pq.Error
	if !errors.As(err, &pe) || pe.Code != "42P01" {
		t.Fatalf("query of a missing table = %v, want SQLSTATE 42P01", err)
	}
	if _, err := c.ExecContext(ctx, `CREATE TEMP TABLE later (x int); INSERT INTO later VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	if n := queryInt(t, c, q, 1); n != 1 {
		t.Errorf("after creating the table: %d, want 1", n)
	}
	// Inside a transaction too: an error aborts it, the rollback recovers it.
	tx, err := c.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO u VALUES ($1)`, 1); !errors.As(err, &pe) || pe.Code != "23505" {
		t.Errorf("duplicate insert in a transaction = %v, want SQLSTATE 23505", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO u VALUES ($1)`, 3); !errors.As(err, &pe) || pe.Code != "25P02" {
		t.Errorf("insert in the aborted transaction = %v, want SQLSTATE 25P02", err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if n := queryInt(t, c, `SELECT count(*) FROM u WHERE x = ANY($1)`, pq.Array([]int{1, 3})); n != 1 {
		t.Errorf("after the rollback: %d of rows 1 and 3, want 1", n)
	}
}

func TestStmtCacheForgetsStatementWhoseResultTypeChanged(t *testing.T) {
	ctx := context.Background()
	c := conn(t, pgtest.New(t).DB)
	if _, err := c.ExecContext(ctx, `CREATE TEMP TABLE tmp_tbl (x int); INSERT INTO tmp_tbl VALUES (7)`); err != nil {
		t.Fatal(err)
	}
	const q = `SELECT * FROM tmp_tbl WHERE $1::int = 1`
	// columns runs q and returns its column names, or the error.
	columns := func() ([]string, error) {
		rows, err := c.QueryContext(ctx, q, 1)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		cols, err := rows.Columns()
		if err != nil {
			return nil, err
		}
		for rows.Next() {
		}
		return cols, rows.Err()
	}
	if cols, err := columns(); err != nil || !slices.Equal(cols, []string{"x"}) {
		t.Fatalf("before the change: %q, %v", cols, err)
	}
	if n := preparedCount(t, c, q); n != 1 {
		t.Fatalf("%d prepared statements for the query, want 1", n)
	}
	if _, err := c.ExecContext(ctx, `ALTER TABLE tmp_tbl ADD COLUMN y int`); err != nil {
		t.Fatal(err)
	}
	// Outside a transaction the stale statement is re-prepared and the call
	// retried at once: the caller never sees the error.
	if cols, err := columns(); err != nil || !slices.Equal(cols, []string{"x", "y"}) {
		t.Fatalf("run after the change = %q, %v; want columns x, y (the cache re-prepared the stale statement)", cols, err)
	}
	// Inside a transaction the error stands (the statement aborted the
	// transaction); after it, the statement is prepared afresh.
	if _, err := c.ExecContext(ctx, `ALTER TABLE tmp_tbl ADD COLUMN z int`); err != nil {
		t.Fatal(err)
	}
	tx, err := c.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.QueryContext(ctx, q, 1); err == nil || !strings.Contains(err.Error(), "cached plan must not change result type") {
		t.Fatalf("in a transaction after the change: %v, want the cached-plan error", err)
	}
	_ = tx.Rollback()
	if cols, err := columns(); err != nil || !slices.Equal(cols, []string{"x", "y", "z"}) {
		t.Fatalf("after the transaction = %q, %v; want columns x, y, z", cols, err)
	}
	// DEALLOCATE ALL (what a pooler's DISCARD ALL does): the next call
	// prepares again instead of failing with 26000 forever.
	if _, err := c.ExecContext(ctx, `DEALLOCATE ALL`); err != nil {
		t.Fatal(err)
	}
	if cols, err := columns(); err != nil || !slices.Equal(cols, []string{"x", "y", "z"}) {
		t.Fatalf("after DEALLOCATE ALL = %q, %v", cols, err)
	}
	if n := preparedCount(t, c, q); n != 1 {
		t.Errorf("%d prepared statements for the query after re-preparing, want 1", n)
	}
}

func TestJSONArgThroughThePool(t *testing.T) {
	ctx := context.Background()
	db := pgtest.New(t)
	if _, err := db.ExecContext(ctx, `CREATE TABLE j (id int PRIMARY KEY, v jsonb)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO j VALUES ($1, $2), ($3, $4)`,
		1, postgres.JSONArg([]byte(`{"a":1}`)), 2, postgres.JSONArg(nil)); err != nil {
		t.Fatalf("insert jsonArg: %v", err)
	}
	var text string
	var a int
	var same bool
	if err := db.QueryRowContext(ctx, `SELECT v::text, (v->>'a')::int, v = '{"a":1}'::jsonb FROM j WHERE id = $1`, 1).
		Scan(&text, &a, &same); err != nil {
		t.Fatal(err)
	}
	if text != `{"a": 1}` || a != 1 || !same {
		t.Errorf("stored jsonb = %s (a=%d, equal=%v), want {\"a\": 1}", text, a, same)
	}
	var raw []byte
	if err := db.QueryRowContext(ctx, `SELECT v FROM j WHERE id = $1`, 1).Scan(&raw); err != nil || string(raw) != `{"a": 1}` {
		t.Errorf("jsonb read back as []byte = %q, %v", raw, err)
	}
	var isNull bool
	if err := db.QueryRowContext(ctx, `SELECT v IS NULL FROM j WHERE id = $1`, 2).Scan(&isNull); err != nil || !isNull {
		t.Errorf("jsonArg(nil) stored as NULL = %v, %v", isNull, err)
	}
	// Why jsonArg exists: Open turns on binary parameters, and a []byte
	// then travels in binary format, which jsonb refuses.
	if _, err := db.ExecContext(ctx, `INSERT INTO j VALUES ($1, $2)`, 3, []byte(`{"a":1}`)); err == nil {
		t.Error("[]byte JSON into jsonb was accepted: are binary parameters off? (then jsonArg is not needed)")
	}
}
