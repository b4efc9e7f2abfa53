package workitem

import (
	"context"
	"time"
)

// DeliveryState is the life-cycle state of a Claim delivery to the
// downstream FHIR server.
type DeliveryState string

// The delivery states.
const (
	DeliveryPending   DeliveryState = "pending"   // waiting for (or being) delivered
	DeliveryDelivered DeliveryState = "delivered" // accepted by the sink (2xx)
	DeliveryDead      DeliveryState = "dead"      // given up on; waits for an operator's replay
)

// ClaimDelivery is one version of an issued Claim queued for the downstream
// FHIR server. Raw is the stored Claim JSON of that version; it is filled in
// by ClaimDeliveries.Claim only and must never be logged.
type ClaimDelivery struct {
	ID               int64
	ClaimID          string
	Version          int
	IdentifierSystem string
	IdentifierValue  string
	Raw              []byte
	// Identifiers maps each "Type/id" the Claim references to an identifier
	// of that resource, so the sink receives logical references (filled by
	// ClaimDeliveries.Claim only).
	Identifiers map[string]Identifier
	State       DeliveryState
	Attempts    int    // delivery attempts started so far
	LastError   string // status code and short reason, never payload content
	CreatedAt   time.Time
}

// ClaimDeliveries is the delivery worker's and the operators' side of the
// Claim delivery queue.
//
// Ordering guarantee: Claim never returns a version of a Claim while a lower
// version of it is not yet delivered (pending or dead), so a cancellation
// never overtakes the create it cancels.
//
// Every method returns Transient when the database is unreachable and
// Internal for anything unexpected.
type ClaimDeliveries interface {
	// Claim leases up to limit deliverable rows for lease.
	Claim(ctx context.Context, limit int, lease time.Duration) ([]ClaimDelivery, error)
	// MarkDelivered records that the sink accepted id.
	MarkDelivered(ctx context.Context, id int64) error
	// MarkFailed records a failed attempt at id; permanent, or a last
	// attempt, makes it dead, which it reports.
	MarkFailed(ctx context.Context, id int64, reason string, permanent bool) (dead bool, err error)
	// Release returns a claimed id to the pool without counting the attempt.
	Release(ctx context.Context, id int64) error
	// ListDead lists up to limit dead rows with ID > afterID, in ID order,
	// without Raw.
	ListDead(ctx context.Context, afterID int64, limit int) ([]ClaimDelivery, error)
	// Replay moves the dead row id back to pending with its attempts reset.
	// It returns NotFound when id is not a dead row.
	Replay(ctx context.Context, id int64) error
	// ReplayAll replays every dead row and reports how many.
	ReplayAll(ctx context.Context) (int64, error)
}
