// Package autocode is codebridge's straight-through coder: a background
// worker that takes ready work items off the queue in small batches and
// codes, unattended, those the straight-through policy lets through
// (workitem.StraightThroughPolicy: complete suggestions, an unambiguous
// first-listed diagnosis, confirmed and active diagnoses, no error edit, no
// warning outside the allowlist; CODEBRIDGE_AUTOCODE=on). What it decides
// per item (mapping.AutoAssignment, the edits, the policy, QA routing) is
// the store's
// AutoCodeBatch, one transaction per batch; this package owns the loop
// around it: when to look, how long to let new items gather, what to count
// and what to log.
//
// Why its own package and not part of mapping/ingest: ingest is the way
// resources come in, one request (or message) at a time, and answers its
// caller; the auto-coder is a worker over the coding queue that nobody
// calls and that answers no one, with a different store interface
// (AutoCodeBatch, not WriteResources) and a lifetime of its own. Like
// ingest it does its I/O only through a small interface (Store, which
// *postgres.Store satisfies), so cmd wires it to PostgreSQL and its tests
// use a fake.
//
// The loop is workitem.Poll: after a batch that looked at fewer items than
// it could (the queue is drained) it waits for a wake from a committed
// write (Options.Wake) or the idle interval, then lets Options.Gather pass
// so that items arriving together are looked at in one transaction; a full
// batch is followed at once by the next; a failed batch is logged and
// retried after a back-off of at most a second. Several workers may run
// over one store: they share the queue through FOR UPDATE SKIP LOCKED.
package autocode
