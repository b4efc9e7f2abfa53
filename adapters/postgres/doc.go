// Package postgres is codebridge's system of record on PostgreSQL, through
// lib/pq and database/sql.
//
// Conventions (pkgsite's internal/database and benbjohnson/wtf's sqlite
// package): exported methods open a transaction with DB.Transact, which
// commits or rolls back on error or panic; unexported fooTx(ctx, tx, ...)
// helpers compose inside it; an outbox row shares the transaction of the
// change it announces. Schema migrations are plain SQL files embedded in the
// binary under migrations/, applied forward-only by pressly/goose with a
// PostgreSQL advisory lock so several replicas can start at once. Later
// features add their tables as new numbered files there; applied files are
// never edited.
package postgres
