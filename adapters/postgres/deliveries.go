package postgres

// Claim deliveries to the downstream FHIR server (migration
// 00007_claim_deliveries.sql).
//
// Writers queue a row per Claim version with enqueueDeliveryTx, inside the
// transaction that writes the version. The worker side (DeliveryStore)
// mirrors the outbox relay: Claim leases rows by pushing next_attempt_at
// forward under FOR UPDATE SKIP LOCKED, and takes a version only when no
// lower version of the same Claim is still undelivered (pending, leased,
// backing off or dead). A cancellation therefore never reaches the sink
// before the create it cancels, whichever worker holds which row; a dead
// version holds back the later ones of its Claim until it is replayed.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/codebridge/codebridge/mapping"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// enqueueDeliveryTx queues version of the Claim claimID for the claim sink,
// inside tx; it does nothing unless s.o.DeliverClaims is set. Queuing the
// same version twice is a no-op.
func (s *Store) enqueueDeliveryTx(ctx context.Context, tx *sql.Tx, claimID string, version int) error {
	if !s.o.DeliverClaims {
		return nil
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO claim_deliveries (claim_id, claim_version, identifier)
SELECT id, $2, identifier FROM claims WHERE id = $1
ON CONFLICT (claim_id, claim_version) DO NOTHING`, claimID, version)
	if err != nil {
		return fmt.Errorf("postgres.enqueueDeliveryTx(%s): %w", claimID, err)
	}
	return nil
}

// DeliveryStore is the claim-sink worker's view of claim_deliveries.
type DeliveryStore struct {
	db *DB
	// Retry decides backoff and when a row is dead; see workitem.RetryPolicy.
	Retry workitem.RetryPolicy
}

var _ workitem.ClaimDeliveries = (*DeliveryStore)(nil)

// NewDeliveryStore returns the delivery queue of db with retry policy p; a
// zero Cap is 5 minutes and a zero Base one second.
func NewDeliveryStore(db *DB, p workitem.RetryPolicy) *DeliveryStore {
	if p.Base <= 0 {
		p.Base = time.Second
	}
	if p.Cap <= 0 {
		p.Cap = 5 * time.Minute
	}
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 8
	}
	return &DeliveryStore{db: db, Retry: p}
}

const deliveryColumns = `d.id, d.claim_id, d.claim_version, d.identifier, d.state, d.attempts, d.last_error, d.created_at`

// Claim leases up to limit deliverable rows, with the raw Claim JSON of
// their version; see the file comment for the ordering.
func (s *DeliveryStore) Claim(ctx context.Context, limit int, lease time.Duration) (_ []workitem.ClaimDelivery, err error) {
	defer workitem.Wrap(&err, "postgres.DeliveryStore.Claim")
	const q = `
WITH c AS (
    UPDATE claim_deliveries SET next_attempt_at = now() + $2 * interval '1 microsecond', attempts = attempts + 1
    WHERE id IN (
        SELECT d.id FROM claim_deliveries d
        WHERE d.state = 'pending' AND d.next_attempt_at <= now()
          AND NOT EXISTS (SELECT 1 FROM claim_deliveries p
                          WHERE p.claim_id = d.claim_id AND p.state <> 'delivered'
                            AND p.claim_version < d.claim_version)
        ORDER BY d.id
        LIMIT $1
        FOR UPDATE SKIP LOCKED)
    RETURNING *)
SELECT ` + deliveryColumns + `, v.raw FROM c AS d
JOIN claim_versions v ON v.id = d.claim_id AND v.version = d.claim_version
ORDER BY d.id`
	rows, err := s.db.QueryContext(ctx, q, limit, lease.Microseconds())
	if err != nil {
		return nil, outboxErr(err)
	}
	ds, err := scanDeliveries(rows, true)
	if err != nil || len(ds) == 0 {
		return ds, err
	}
	return ds, outboxErr(s.fillIdentifiers(ctx, ds))
}

// MarkDelivered records that the sink accepted id.
func (s *DeliveryStore) MarkDelivered(ctx context.Context, id int64) (err error) {
	defer workitem.Wrap(&err, "postgres.DeliveryStore.MarkDelivered(%d)", id)
	_, err = s.db.ExecContext(ctx, `UPDATE claim_deliveries SET state = 'delivered', delivered_at = now(), last_error = ''
WHERE id = $1 AND state = 'pending'`, id)
	return outboxErr(err)
}

// MarkFailed records a failed attempt at id: dead when permanent or when
// its attempts reached s.Retry.MaxAttempts, else it waits the backoff.
func (s *DeliveryStore) MarkFailed(ctx context.Context, id int64, reason string, permanent bool) (dead bool, err error) {
	defer workitem.Wrap(&err, "postgres.DeliveryStore.MarkFailed(%d)", id)
	err = s.db.Transact(ctx, nil, func(tx *sql.Tx) error {
		var attempts int
		err := tx.QueryRowContext(ctx, `SELECT attempts FROM claim_deliveries WHERE id = $1 AND state = 'pending' FOR UPDATE`, id).Scan(&attempts)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if dead = permanent || attempts >= s.Retry.MaxAttempts; dead {
			_, err = tx.ExecContext(ctx, `UPDATE claim_deliveries SET state = 'dead', last_error = $2 WHERE id = $1`, id, reason)
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE claim_deliveries SET last_error = $2,
    next_attempt_at = now() + $3 * interval '1 microsecond' WHERE id = $1`, id, reason, s.Retry.Backoff(attempts).Microseconds())
		return err
	})
	return dead, outboxErr(err)
}

// Release hands a claimed id back without counting the attempt.
func (s *DeliveryStore) Release(ctx context.Context, id int64) (err error) {
	defer workitem.Wrap(&err, "postgres.DeliveryStore.Release(%d)", id)
	_, err = s.db.ExecContext(ctx, `UPDATE claim_deliveries SET next_attempt_at = now(), attempts = greatest(attempts - 1, 0)
WHERE id = $1 AND state = 'pending'`, id)
	return outboxErr(err)
}

// ListDead lists up to limit dead rows after afterID, in ID order, without
// the Claim JSON.
func (s *DeliveryStore) ListDead(ctx context.Context, afterID int64, limit int) (_ []workitem.ClaimDelivery, err error) {
	defer workitem.Wrap(&err, "postgres.DeliveryStore.ListDead")
	rows, err := s.db.QueryContext(ctx, `SELECT `+deliveryColumns+` FROM claim_deliveries d
WHERE d.state = 'dead' AND d.id > $1 ORDER BY d.id LIMIT $2`, afterID, limit)
	if err != nil {
		return nil, outboxErr(err)
	}
	return scanDeliveries(rows, false)
}

// CountDead counts dead rows (the dead-letter gauge).
func (s *DeliveryStore) CountDead(ctx context.Context) (n int64, err error) {
	defer workitem.Wrap(&err, "postgres.DeliveryStore.CountDead")
	err = s.db.QueryRowContext(ctx, `SELECT count(*) FROM claim_deliveries WHERE state = 'dead'`).Scan(&n)
	return n, outboxErr(err)
}

const deliveryReplaySQL = `UPDATE claim_deliveries SET state = 'pending', attempts = 0, next_attempt_at = now()
WHERE state = 'dead'`

// Replay moves the dead row id back to pending with fresh attempts. Its
// Claim's later versions stay behind it, as before.
func (s *DeliveryStore) Replay(ctx context.Context, id int64) (err error) {
	defer workitem.Wrap(&err, "postgres.DeliveryStore.Replay(%d)", id)
	res, err := s.db.ExecContext(ctx, deliveryReplaySQL+` AND id = $1`, id)
	if err != nil {
		return outboxErr(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return workitem.Errorf(workitem.NotFound, "no dead claim delivery %d", id)
	}
	return nil
}

// ReplayAll replays every dead row and reports how many.
func (s *DeliveryStore) ReplayAll(ctx context.Context) (n int64, err error) {
	defer workitem.Wrap(&err, "postgres.DeliveryStore.ReplayAll")
	res, err := s.db.ExecContext(ctx, deliveryReplaySQL)
	if err != nil {
		return 0, outboxErr(err)
	}
	return res.RowsAffected()
}

func scanDeliveries(rows *sql.Rows, withRaw bool) ([]workitem.ClaimDelivery, error) {
	defer rows.Close()
	var out []workitem.ClaimDelivery
	for rows.Next() {
		d := workitem.ClaimDelivery{IdentifierSystem: mapping.SystemClaimIdentifier}
		dest := []any{&d.ID, &d.ClaimID, &d.Version, &d.IdentifierValue, &d.State, &d.Attempts, &d.LastError, &d.CreatedAt}
		if withRaw {
			dest = append(dest, &d.Raw)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, outboxErr(rows.Err())
}
