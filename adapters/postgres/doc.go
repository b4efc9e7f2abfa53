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
//
// Where we depart from those models, and why: on a machine where the
// database shares the cores with the service, the cost of a write is mostly
// round trips (each a wake-up of both processes), not the work of a row. So
// the hot paths say in ONE statement, with data-modifying CTEs, what the
// models would say in several: a transition's history entry and status
// event, the lease with its history and event, a new work item with both,
// and a Bundle of fresh POSTs with its work items (fresh.go: then without
// an explicit transaction at all, since a single statement is atomic). As
// in pkgsite, each table's insert is still written once: writes.go holds
// one fragment per table (and the one outbox sequencing statement), with
// named parameters, and compose.go composes them into those statements
// (numbering the parameters, so no statement splices another's $N). The
// composed fooTx helpers stay the reference for what a write means:
// fresh_test.go compares the fresh path with the general transaction row by
// row, after every Bundle of a sequence that also exercises its fallbacks.
package postgres
