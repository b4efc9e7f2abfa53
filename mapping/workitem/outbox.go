package workitem

import (
	"context"
	"time"
)

// Message is one event to publish: Kafka topic, key, value and headers.
// Messages with the same Key are delivered in the order they were enqueued.
type Message struct {
	Topic   string
	Key     string
	Value   []byte
	Headers map[string]string
}

// OutboxState is the life-cycle state of an outbox record.
type OutboxState string

// The outbox states.
const (
	OutboxPending OutboxState = "pending" // waiting for (or being) published
	OutboxSent    OutboxState = "sent"    // acknowledged by every in-sync replica
	OutboxDead    OutboxState = "dead"    // given up on; waits for an operator's replay
)

// OutboxRecord is a Message as stored in the outbox, with its per-key
// sequence number and delivery bookkeeping.
type OutboxRecord struct {
	Message
	ID        int64
	Seq       int64 // 1, 2, 3, ... per Key, without gaps
	State     OutboxState
	Attempts  int    // publish attempts started so far
	LastError string // the last broker error, never payload content
	CreatedAt time.Time
}

// RetryPolicy decides what a failed publish costs a record: after
// MaxAttempts attempts it is dead; before that it waits Base·2^(attempts-1),
// capped at Cap, before the next attempt.
type RetryPolicy struct {
	MaxAttempts int
	Base        time.Duration
	Cap         time.Duration
}

// Backoff returns the wait before attempt number attempts+1.
func (p RetryPolicy) Backoff(attempts int) time.Duration {
	d := p.Base
	for i := 1; i < attempts && d < p.Cap; i++ {
		d *= 2
	}
	return min(d, p.Cap)
}

// OutboxStats summarises the outbox for metrics.
type OutboxStats struct {
	Pending       int64
	Dead          int64
	OldestPending time.Duration // age of the oldest pending record; 0 when none
}

// Outbox is the relay's side of the transactional outbox. Writers do not use
// it: they enqueue inside their own transaction (postgres.EnqueueTx).
//
// Ordering guarantee: Claim never returns a record while a lower Seq of the
// same Key is still pending (claimed, backing off or waiting), so per key at
// most one record is in flight across all relays. Dead records do not block
// their key; Replay re-enqueues them at the end of their key's sequence.
//
// Every method returns Transient when the database is unreachable and
// Internal for anything unexpected.
type Outbox interface {
	// Claim leases up to limit publishable records for lease: until it
	// expires (or the record is marked or released) no other relay gets them.
	// Records come in ID order, at most one per Key.
	Claim(ctx context.Context, limit int, lease time.Duration) ([]OutboxRecord, error)
	// MarkSent records that the broker acknowledged ids and reports how many
	// were still pending: fewer than len(ids) means another relay had
	// already published some of them (a detected duplicate).
	MarkSent(ctx context.Context, ids ...int64) (marked int, err error)
	// MarkFailed records a failed publish of ids: each record becomes dead
	// when it has used p.MaxAttempts attempts and otherwise waits its
	// backoff. It reports how many records became dead. reason must not
	// contain payload content.
	MarkFailed(ctx context.Context, ids []int64, reason string, p RetryPolicy) (dead int, err error)
	// MarkDead dead-letters ids at once (a permanent error).
	MarkDead(ctx context.Context, ids []int64, reason string) error
	// Release returns claimed but unpublished ids to the pool without
	// counting an attempt (graceful shutdown).
	Release(ctx context.Context, ids ...int64) error
	// ListDead lists up to limit dead records with ID > afterID, in ID order.
	ListDead(ctx context.Context, afterID int64, limit int) ([]OutboxRecord, error)
	// Replay moves the dead record id back to pending, with a fresh Seq at
	// the end of its key. It returns NotFound when id is not a dead record.
	Replay(ctx context.Context, id int64) error
	// ReplayAll replays every dead record and reports how many.
	ReplayAll(ctx context.Context) (int64, error)
	// Stats counts pending and dead records and the oldest pending age.
	Stats(ctx context.Context) (OutboxStats, error)
	// DeleteSent deletes up to limit records sent before before (retention).
	DeleteSent(ctx context.Context, before time.Time, limit int) (int64, error)
}
