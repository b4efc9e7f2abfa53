package postgres

import (
	"container/list"
	"context"
	"database/sql/driver"
	"errors"
	"strings"
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
// as PostgreSQL prepared statements are per session.

// stmtCacheSize is the number of statements each connection keeps prepared.
// The service's hot set is ~70 statements.
const stmtCacheSize = 160

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

// forget drops query's statement after an error that may have come from the
// statement itself (e.g. a result type changed under it by a migration), so
// the next use prepares it afresh.
func (c *cachingConn) forget(query string, err error) {
	if err == nil || errors.Is(err, driver.ErrBadConn) {
		return
	}
	if el, ok := c.byQuery[query]; ok && strings.Contains(err.Error(), "cached plan must not change result type") {
		c.lru.Remove(el)
		delete(c.byQuery, query)
		_ = el.Value.(*cachedStmt).stmt.Close()
	}
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if cacheable(query, len(args)) {
		st, err := c.stmtFor(ctx, query)
		if err == nil {
			if sq, ok := st.(driver.StmtQueryContext); ok {
				rows, err := sq.QueryContext(ctx, args)
				c.forget(query, err)
				return rows, err
			}
		} else if !errors.Is(err, driver.ErrSkip) {
			return nil, err
		}
	}
	if q, ok := c.Conn.(driver.QueryerContext); ok {
		return q.QueryContext(ctx, query, args)
	}
	return nil, driver.ErrSkip
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if cacheable(query, len(args)) {
		st, err := c.stmtFor(ctx, query)
		if err == nil {
			if se, ok := st.(driver.StmtExecContext); ok {
				res, err := se.ExecContext(ctx, args)
				c.forget(query, err)
				return res, err
			}
		} else if !errors.Is(err, driver.ErrSkip) {
			return nil, err
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
	if b, ok := c.Conn.(driver.ConnBeginTx); ok {
		return b.BeginTx(ctx, opts)
	}
	return nil, errors.New("postgres: driver connection cannot begin transactions with options")
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
