package postgres

import (
	"container/list"
	"context"
	"database/sql/driver"
	"errors"
	"strings"

	"github.com/lib/pq"
)

// A statement cache in front of lib/pq.
//
// lib/pq sends every statement with arguments as an unnamed statement:
// PostgreSQL parses, analyses and plans it again on each call. Profiles of
// the coder-day benchmark showed a fifth of the server's time in planning,
// most of it get_relation_info walking work_items' indexes. pgx solves this
// with a per-connection statement cache; lib/pq has none, so this wrapper
// keeps one: each connection prepares a statement the first time its text is
// seen and then only binds and executes it (one round trip, a cached plan
// once PostgreSQL's plan cache settles on one). The cache is a small LRU per
// connection, so dynamically built SQL cannot grow server memory without
// bound.
//
// What is cached: statements with arguments, and argument-less single
// SELECT/INSERT/UPDATE/DELETE/WITH statements. Everything else (DDL,
// transaction control, multi-statement scripts, COPY) goes to lib/pq as
// before. A prepared statement outlives the transaction that prepared it,
// as PostgreSQL prepared statements are per session. A statement the
// server no longer knows as prepared (dropped by DISCARD ALL, or a schema
// change altered its result) is forgotten and, outside a transaction,
// retried once. Behind a pooler in transaction mode that does not carry
// prepared statements (PgBouncer before 1.21, or without
// max_prepared_statements), turn the cache off:
// CODEBRIDGE_DB_STATEMENT_CACHE=off.

// DefaultStatementCache is the number of statements each connection keeps
// prepared by default. The service's hot set is ~70 statements.
const DefaultStatementCache = 160

// cachingConnector wraps a driver.Connector so its connections cache
// prepared statements.
type cachingConnector struct {
	base driver.Connector
	size int
}

func (c *cachingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	cn, err := c.base.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &cachingConn{Conn: cn, size: c.size, byQuery: map[string]*list.Element{}, lru: list.New()}, nil
}

func (c *cachingConnector) Driver() driver.Driver { return c.base.Driver() }

type cachedStmt struct {
	query string
	stmt  driver.Stmt
}

// cachingConn is one connection with its statements. database/sql uses a
// connection from one goroutine at a time, so it needs no lock.
type cachingConn struct {
	driver.Conn
	size    int
	byQuery map[string]*list.Element
	lru     *list.List // front = most recently used
	inTx    bool       // a transaction is open on the connection
}

// cacheable says whether query goes through the cache.
func cacheable(query string, nargs int) bool {
	if nargs > 0 {
		return true
	}
	q := strings.TrimSpace(query)
	if strings.Contains(strings.TrimRight(q, "; \t\n"), ";") {
		return false
	}
	head := q
	if i := strings.IndexAny(head, " \t\n("); i > 0 {
		head = head[:i]
	}
	switch strings.ToUpper(head) {
	case "SELECT", "INSERT", "UPDATE", "DELETE", "WITH":
		return true
	}
	return false
}

func (c *cachingConn) stmtFor(ctx context.Context, query string) (driver.Stmt, error) {
	if el, ok := c.byQuery[query]; ok {
		c.lru.MoveToFront(el)
		return el.Value.(*cachedStmt).stmt, nil
	}
	p, ok := c.Conn.(driver.ConnPrepareContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	st, err := p.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	for c.lru.Len() >= c.size {
		old := c.lru.Back()
		c.lru.Remove(old)
		cs := old.Value.(*cachedStmt)
		delete(c.byQuery, cs.query)
		if err := cs.stmt.Close(); err != nil {
			_ = st.Close()
			return nil, err
		}
	}
	c.byQuery[query] = c.lru.PushFront(&cachedStmt{query: query, stmt: st})
	return st, nil
}

// stale reports whether err says the server no longer runs query's prepared
// statement as prepared: its result type changed under it (a migration
// altered a table: 0A000 "cached plan must not change result type"), or
// the statement is gone (26000: DEALLOCATE/DISCARD ALL, or a pooler that
// does not keep prepared statements).
func stale(err error) bool {
	var pe *pq.Error
	if !errors.As(err, &pe) {
		return false
	}
	return pe.Code == "26000" || (pe.Code == "0A000" && strings.Contains(pe.Message, "cached plan must not change result type"))
}

// forget drops query's statement, so the next use prepares it afresh.
func (c *cachingConn) forget(query string) {
	if el, ok := c.byQuery[query]; ok {
		c.lru.Remove(el)
		delete(c.byQuery, query)
		_ = el.Value.(*cachedStmt).stmt.Close()
	}
}

// run executes query through its cached statement. A stale statement is
// forgotten; outside a transaction the call is then retried once with a
// fresh one (inside, the failed statement has aborted the transaction and
// the caller's error handling applies, while later calls prepare anew).
func (c *cachingConn) run(ctx context.Context, query string, call func(driver.Stmt) error) error {
	for attempt := 0; ; attempt++ {
		st, err := c.stmtFor(ctx, query)
		if err != nil {
			return err
		}
		err = call(st)
		if err == nil || !stale(err) {
			return err
		}
		c.forget(query)
		if c.inTx || attempt > 0 {
			return err
		}
	}
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if cacheable(query, len(args)) {
		var rows driver.Rows
		err := c.run(ctx, query, func(st driver.Stmt) error {
			sq, ok := st.(driver.StmtQueryContext)
			if !ok {
				return driver.ErrSkip
			}
			var err error
			rows, err = sq.QueryContext(ctx, args)
			return err
		})
		if !errors.Is(err, driver.ErrSkip) {
			return rows, err
		}
	}
	if q, ok := c.Conn.(driver.QueryerContext); ok {
		return q.QueryContext(ctx, query, args)
	}
	return nil, driver.ErrSkip
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if cacheable(query, len(args)) {
		var res driver.Result
		err := c.run(ctx, query, func(st driver.Stmt) error {
			se, ok := st.(driver.StmtExecContext)
			if !ok {
				return driver.ErrSkip
			}
			var err error
			res, err = se.ExecContext(ctx, args)
			return err
		})
		if !errors.Is(err, driver.ErrSkip) {
			return res, err
		}
	}
	if e, ok := c.Conn.(driver.ExecerContext); ok {
		return e.ExecContext(ctx, query, args)
	}
	return nil, driver.ErrSkip
}

// The optional interfaces database/sql looks for, passed through.

func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if p, ok := c.Conn.(driver.ConnPrepareContext); ok {
		return p.PrepareContext(ctx, query)
	}
	return c.Conn.Prepare(query)
}

func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	b, ok := c.Conn.(driver.ConnBeginTx)
	if !ok {
		return nil, errors.New("postgres: driver connection cannot begin transactions with options")
	}
	tx, err := b.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	c.inTx = true
	return trackedTx{Tx: tx, c: c}, nil
}

// trackedTx notes the end of the connection's transaction.
type trackedTx struct {
	driver.Tx
	c *cachingConn
}

func (t trackedTx) Commit() error {
	t.c.inTx = false
	return t.Tx.Commit()
}

func (t trackedTx) Rollback() error {
	t.c.inTx = false
	return t.Tx.Rollback()
}

func (c *cachingConn) Ping(ctx context.Context) error {
	if p, ok := c.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (c *cachingConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *cachingConn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (c *cachingConn) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := c.Conn.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}
