package postgres

// The transactional outbox (migration 00002_outbox.sql).
//
// Writers call EnqueueTx inside the transaction of the change the messages
// announce; it never touches Kafka. The per-key sequence comes from an upsert
// on outbox_keys in that same transaction (sequenceOutbox in writes.go, the
// one sequencing statement: status events compose it into their writes),
// which also row-locks the key until commit: two writers of one key
// serialise there, so per key the commit order is the seq order and there
// are no gaps.
//
// The relay side (OutboxStore) leases records by pushing next_attempt_at
// forward. Claim takes a pending record only when no lower seq of its key is
// still pending, whatever that lower record is doing (leased by another
// relay, backing off after a failure, or just waiting). That is what keeps a
// key in flight at one relay at a time:
//
//   - Relay A leases seq 1 and commits the lease. Relay B's pick then sees
//     seq 1 pending (leased) and skips the key entirely: seq 1 fails the
//     next_attempt_at test, seq 2 fails NOT EXISTS.
//   - A publishes seq 1 and commits MarkSent while B is picking. If B's
//     snapshot predates A's commit, B still sees seq 1 pending and skips the
//     key; if it postdates it, seq 1 is already on the broker and seq 2 is
//     free to go. There is no snapshot in which seq 2 is visible and seq 1
//     is neither pending nor sent, because seq 2's writer committed after
//     seq 1's (the key lock above).
//   - Two relays racing for the same free record: FOR UPDATE SKIP LOCKED
//     lets one lock it; the other skips it, or, if the winner already
//     committed, re-checks the row's own predicates on the new version
//     (next_attempt_at now in the future) and drops it.
//
// A relay that dies mid-publish leaves its lease to expire; the next relay
// publishes the record again (at-least-once: a duplicate, never a loss or a
// reorder of first deliveries).
//
// Dead records stop blocking their key (later events of the encounter keep
// flowing, so one poison message does not freeze an encounter's stream);
// Replay re-enqueues a dead record with a fresh seq at the end of its key.

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/lib/pq"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// EnqueueTx adds msgs to the outbox inside tx, assigning each its key's next
// sequence number. Call it in the transaction of the change the messages
// announce: they become visible to the relay exactly when that change
// commits, and vanish with it on rollback.
func EnqueueTx(ctx context.Context, tx *sql.Tx, msgs ...workitem.Message) (err error) {
	defer workitem.Wrap(&err, "postgres.EnqueueTx")
	for _, m := range msgs {
		if m.Topic == "" || m.Key == "" {
			return workitem.Errorf(workitem.Internal, "outbox message without topic or key")
		}
		headers, err := json.Marshal(outboxHeaders(m.Headers))
		if err != nil {
			return err
		}
		value := m.Value
		if value == nil {
			value = []byte{}
		}
		// One statement per message: two of one key in one statement would
		// touch its outbox_keys row twice (sequenceOutbox).
		var ev eventRows
		ev.add(outboxEvent{topic: m.Topic, key: m.Key, value: value, headers: string(headers)})
		if _, err := enqueueSQL.exec(ctx, tx, ev.params(params{})); err != nil {
			return outboxErr(err)
		}
	}
	return nil
}

func outboxHeaders(h map[string]string) map[string]string {
	if h == nil {
		return map[string]string{}
	}
	return h
}

// OutboxStore is the relay's view of the outbox: claim, mark, dead-letter,
// replay and housekeeping.
type OutboxStore struct {
	db *DB
}

var _ workitem.Outbox = (*OutboxStore)(nil)

// NewOutboxStore returns the outbox of db.
func NewOutboxStore(db *DB) *OutboxStore { return &OutboxStore{db: db} }

// Enqueue adds msgs in a transaction of its own. State changes use EnqueueTx
// in theirs instead; this is for tools and tests.
func (s *OutboxStore) Enqueue(ctx context.Context, msgs ...workitem.Message) error {
	return s.db.Transact(ctx, nil, func(tx *sql.Tx) error { return EnqueueTx(ctx, tx, msgs...) })
}

const outboxColumns = `id, topic, key, seq, value, headers, state, attempts, last_error, created_at`

// Claim leases up to limit publishable records; see the file comment for
// why at most one record per key can be in flight.
func (s *OutboxStore) Claim(ctx context.Context, limit int, lease time.Duration) (_ []workitem.OutboxRecord, err error) {
	defer workitem.Wrap(&err, "postgres.OutboxStore.Claim")
	const q = `
UPDATE outbox SET next_attempt_at = now() + $2 * interval '1 microsecond', attempts = attempts + 1
WHERE id IN (
    SELECT o.id FROM outbox o
    WHERE o.state = 'pending' AND o.next_attempt_at <= now()
      AND NOT EXISTS (SELECT 1 FROM outbox p
                      WHERE p.key = o.key AND p.state = 'pending' AND p.seq < o.seq)
    ORDER BY o.id
    LIMIT $1
    FOR UPDATE SKIP LOCKED)
RETURNING ` + outboxColumns
	var recs []workitem.OutboxRecord
	err = s.relayTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, q, limit, lease.Microseconds())
		if err != nil {
			return err
		}
		recs, err = scanOutbox(rows)
		return err
	})
	sortOutboxByID(recs) // RETURNING order is unspecified
	return recs, outboxErr(err)
}

// relayTx runs the relay's bookkeeping without waiting for the WAL flush
// (synchronous_commit off). That is safe here and only here: losing such a
// commit in a database crash loses a lease or a "sent" mark, and the record
// is published again: a duplicate, never a loss. Writers' EnqueueTx keeps
// full durability.
func (s *OutboxStore) relayTx(ctx context.Context, fn func(*sql.Tx) error) error {
	return s.db.Transact(ctx, nil, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
			return err
		}
		return fn(tx)
	})
}

// MarkSent records that the broker acknowledged ids.
func (s *OutboxStore) MarkSent(ctx context.Context, ids ...int64) (marked int, err error) {
	defer workitem.Wrap(&err, "postgres.OutboxStore.MarkSent")
	const q = `UPDATE outbox SET state = 'sent', sent_at = now(), last_error = ''
WHERE id = ANY($1) AND state = 'pending'`
	err = s.relayTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, q, pq.Array(ids))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		marked = int(n)
		return err
	})
	return marked, outboxErr(err)
}

// MarkFailed records a failed publish of ids; see workitem.Outbox.
func (s *OutboxStore) MarkFailed(ctx context.Context, ids []int64, reason string, p workitem.RetryPolicy) (dead int, err error) {
	defer workitem.Wrap(&err, "postgres.OutboxStore.MarkFailed")
	err = s.db.Transact(ctx, nil, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, attempts FROM outbox
WHERE id = ANY($1) AND state = 'pending' FOR UPDATE`, pq.Array(ids))
		if err != nil {
			return err
		}
		defer rows.Close()
		var deadIDs, retry []int64
		var waits []int64
		for rows.Next() {
			var id int64
			var attempts int
			if err := rows.Scan(&id, &attempts); err != nil {
				return err
			}
			if attempts >= p.MaxAttempts {
				deadIDs = append(deadIDs, id)
				continue
			}
			retry = append(retry, id)
			waits = append(waits, p.Backoff(attempts).Microseconds())
		}
		if err := rows.Err(); err != nil {
			return err
		}
		dead = len(deadIDs)
		return outboxFailTx(ctx, tx, deadIDs, retry, waits, reason)
	})
	return dead, outboxErr(err)
}

func outboxFailTx(ctx context.Context, tx *sql.Tx, dead, retry, waits []int64, reason string) error {
	if len(dead) > 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE outbox SET state = 'dead', last_error = $2
WHERE id = ANY($1)`, pq.Array(dead), reason); err != nil {
			return err
		}
	}
	if len(retry) > 0 {
		_, err := tx.ExecContext(ctx, `UPDATE outbox o SET last_error = $3,
    next_attempt_at = now() + w.us * interval '1 microsecond'
FROM unnest($1::bigint[], $2::bigint[]) AS w(id, us) WHERE o.id = w.id`,
			pq.Array(retry), pq.Array(waits), reason)
		return err
	}
	return nil
}

// MarkDead dead-letters ids at once.
func (s *OutboxStore) MarkDead(ctx context.Context, ids []int64, reason string) (err error) {
	defer workitem.Wrap(&err, "postgres.OutboxStore.MarkDead")
	_, err = s.db.ExecContext(ctx, `UPDATE outbox SET state = 'dead', last_error = $2
WHERE id = ANY($1) AND state = 'pending'`, pq.Array(ids), reason)
	return outboxErr(err)
}

// Release hands claimed ids back without counting the attempt.
func (s *OutboxStore) Release(ctx context.Context, ids ...int64) (err error) {
	defer workitem.Wrap(&err, "postgres.OutboxStore.Release")
	_, err = s.db.ExecContext(ctx, `UPDATE outbox SET next_attempt_at = now(), attempts = greatest(attempts - 1, 0)
WHERE id = ANY($1) AND state = 'pending'`, pq.Array(ids))
	return outboxErr(err)
}

// ListDead lists dead records after afterID, in ID order.
func (s *OutboxStore) ListDead(ctx context.Context, afterID int64, limit int) (_ []workitem.OutboxRecord, err error) {
	defer workitem.Wrap(&err, "postgres.OutboxStore.ListDead")
	rows, err := s.db.QueryContext(ctx, `SELECT `+outboxColumns+` FROM outbox
WHERE state = 'dead' AND id > $1 ORDER BY id LIMIT $2`, afterID, limit)
	if err != nil {
		return nil, outboxErr(err)
	}
	return scanOutbox(rows)
}

// replaySQL moves the dead record @id of key @event_keys back to pending
// with the key's next seq (sequenceOutbox).
var replaySQL = compose(`UPDATE outbox o SET state = 'pending', seq = seq.last_seq, attempts = 0, next_attempt_at = now()
FROM seq WHERE o.id = @id`, sequenceCTE)

// Replay moves the dead record id back to pending at the end of its key.
func (s *OutboxStore) Replay(ctx context.Context, id int64) (err error) {
	defer workitem.Wrap(&err, "postgres.OutboxStore.Replay(%d)", id)
	n, err := s.replay(ctx, `id = $1`, id)
	if err != nil {
		return err
	}
	if n == 0 {
		return workitem.Errorf(workitem.NotFound, "no dead outbox record %d", id)
	}
	return nil
}

// ReplayAll replays every dead record.
func (s *OutboxStore) ReplayAll(ctx context.Context) (n int64, err error) {
	defer workitem.Wrap(&err, "postgres.OutboxStore.ReplayAll")
	return s.replay(ctx, `true`)
}

// replay re-enqueues, in one transaction, the dead records where holds
// (a condition on outbox with args), each at the end of its key in id
// order, and counts them.
func (s *OutboxStore) replay(ctx context.Context, where string, args ...any) (n int64, err error) {
	err = s.db.Transact(ctx, nil, func(tx *sql.Tx) error {
		ids, keys, err := deadKeysTx(ctx, tx, where, args...)
		if err != nil {
			return err
		}
		for i, id := range ids {
			if _, err := replaySQL.exec(ctx, tx, params{"id": id, "event_keys": pq.Array([]string{keys[i]})}); err != nil {
				return err
			}
		}
		n = int64(len(ids))
		return nil
	})
	return n, outboxErr(err)
}

// deadKeysTx locks the dead records where holds and lists their ids and
// keys in id order.
func deadKeysTx(ctx context.Context, tx *sql.Tx, where string, args ...any) (ids []int64, keys []string, err error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, key FROM outbox WHERE state = 'dead' AND (`+where+`) ORDER BY id FOR UPDATE`, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var key string
		if err := rows.Scan(&id, &key); err != nil {
			return nil, nil, err
		}
		ids, keys = append(ids, id), append(keys, key)
	}
	return ids, keys, rows.Err()
}

// Stats counts pending and dead records and the oldest pending age.
func (s *OutboxStore) Stats(ctx context.Context) (st workitem.OutboxStats, err error) {
	defer workitem.Wrap(&err, "postgres.OutboxStore.Stats")
	var ageUS int64
	err = s.db.QueryRowContext(ctx, `SELECT
    (SELECT count(*) FROM outbox WHERE state = 'pending'),
    (SELECT count(*) FROM outbox WHERE state = 'dead'),
    coalesce((SELECT (extract(epoch FROM now() - min(created_at)) * 1e6)::bigint
              FROM outbox WHERE state = 'pending'), 0)`).Scan(&st.Pending, &st.Dead, &ageUS)
	st.OldestPending = time.Duration(max(ageUS, 0)) * time.Microsecond
	return st, outboxErr(err)
}

// DeleteSent deletes up to limit records sent before before.
func (s *OutboxStore) DeleteSent(ctx context.Context, before time.Time, limit int) (n int64, err error) {
	defer workitem.Wrap(&err, "postgres.OutboxStore.DeleteSent")
	res, err := s.db.ExecContext(ctx, `DELETE FROM outbox WHERE id IN (
    SELECT id FROM outbox WHERE state = 'sent' AND sent_at < $1 LIMIT $2)`, before, limit)
	if err != nil {
		return 0, outboxErr(err)
	}
	return res.RowsAffected()
}

func scanOutbox(rows *sql.Rows) ([]workitem.OutboxRecord, error) {
	defer rows.Close()
	var out []workitem.OutboxRecord
	for rows.Next() {
		var r workitem.OutboxRecord
		var headers []byte
		if err := rows.Scan(&r.ID, &r.Topic, &r.Key, &r.Seq, &r.Value, &headers, &r.State,
			&r.Attempts, &r.LastError, &r.CreatedAt); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(headers, &r.Headers); err != nil {
			return nil, fmt.Errorf("outbox %d headers: %w", r.ID, err)
		}
		out = append(out, r)
	}
	return out, outboxErr(rows.Err())
}

func sortOutboxByID(recs []workitem.OutboxRecord) {
	for i := 1; i < len(recs); i++ { // insertion sort: batches are small and nearly sorted
		for j := i; j > 0 && recs[j].ID < recs[j-1].ID; j-- {
			recs[j], recs[j-1] = recs[j-1], recs[j]
		}
	}
}

// outboxErr marks connection-level failures Transient; anything else keeps
// its kind (Internal unless already classified).
func outboxErr(err error) error {
	if err == nil {
		return nil
	}
	var ne net.Error
	if errors.Is(err, driver.ErrBadConn) || errors.As(err, &ne) {
		return &workitem.Error{Kind: workitem.Transient, Message: "database unavailable", Err: err}
	}
	return err
}
