package postgres

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/codebridge/codebridge/mapping/workitem"
)

const itemColumns = `id, status, encounter_id, patient_id, class, priority, assignee, lease_expires, version, claim_id,
	service_start, service_end, reason, created_at, updated_at`

func scanItem(sc interface{ Scan(...any) error }) (workitem.Item, error) {
	var it workitem.Item
	var enc, pat, claim string
	var lease, start, end sql.NullTime
	err := sc.Scan(&it.ID, &it.Status, &enc, &pat, &it.Class, &it.Priority, &it.Assignee, &lease, &it.Version, &claim,
		&start, &end, &it.Reason, &it.CreatedAt, &it.UpdatedAt)
	if err != nil {
		return it, err
	}
	it.Encounter = "Encounter/" + enc
	if pat != "" {
		it.Patient = "Patient/" + pat
	}
	if claim != "" {
		it.Claim = "Claim/" + claim
	}
	it.LeaseExpires, it.ServiceStart, it.ServiceEnd = timePtr(lease), timePtr(start), timePtr(end)
	it.CreatedAt, it.UpdatedAt = it.CreatedAt.UTC(), it.UpdatedAt.UTC()
	return it, nil
}

func timePtr(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

// ListItems answers the worklist sorted by priority (highest first), then
// age (oldest first), with keyset pagination. Errors: Invalid (bad cursor).
func (s *Store) ListItems(ctx context.Context, f workitem.Filter) (items []workitem.Item, next string, err error) {
	defer workitem.Wrap(&err, "postgres.ListItems")
	where, args := []string{"true"}, []any{}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	if len(f.Status) > 0 {
		ss := make([]string, len(f.Status))
		for i, st := range f.Status {
			ss[i] = string(st)
		}
		add("status = ANY(?)", pqArray(ss))
	}
	if f.Assignee != "" {
		add("assignee = ?", f.Assignee)
	}
	if f.Encounter != "" {
		add("encounter_id = ?", f.Encounter)
	}
	if f.Class != "" {
		add("class = ?", f.Class)
	}
	if !f.From.IsZero() {
		add("service_start >= ?", f.From)
	}
	if !f.To.IsZero() {
		add("service_start < ?", f.To.AddDate(0, 0, 1))
	}
	if f.AutoCode != "" {
		add("(autocode->>'decision') = ?", f.AutoCode)
	}
	if f.Cursor != "" {
		p, created, id, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		args = append(args, p, created, id)
		n := len(args)
		where = append(where, fmt.Sprintf("(priority < $%d OR (priority = $%d AND (created_at, id) > ($%d, $%d)))", n-2, n-2, n-1, n))
	}
	limit := f.Limit
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	args = append(args, limit+1) // a parameter, so page sizes share one prepared statement
	q := `SELECT ` + itemColumns + ` FROM work_items WHERE ` + strings.Join(where, " AND ") +
		fmt.Sprintf(` ORDER BY priority DESC, created_at, id LIMIT $%d`, len(args))
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			return nil, "", err
		}
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	if len(items) > limit {
		items = items[:limit]
		last := items[limit-1]
		next = encodeCursor(last.Priority, last.CreatedAt, last.ID)
	}
	return items, next, nil
}

func encodeCursor(priority int, created time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(priority) + "|" + created.UTC().Format(time.RFC3339Nano) + "|" + id))
}

func decodeCursor(c string) (int, time.Time, string, error) {
	bad := workitem.Errorf(workitem.Invalid, "cursor is not one this server issued")
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, time.Time{}, "", bad
	}
	parts := strings.SplitN(string(b), "|", 3)
	if len(parts) != 3 {
		return 0, time.Time{}, "", bad
	}
	p, err1 := strconv.Atoi(parts[0])
	t, err2 := time.Parse(time.RFC3339Nano, parts[1])
	if err1 != nil || err2 != nil {
		return 0, time.Time{}, "", bad
	}
	return p, t, parts[2], nil
}

// pqArray renders a text[] literal parameter.
func pqArray(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
	}
	return "{" + strings.Join(q, ",") + "}"
}

// GetItem returns one work item with its chart and history. Errors: NotFound.
func (s *Store) GetItem(ctx context.Context, id string) (it workitem.Item, history []workitem.Transition, err error) {
	defer workitem.Wrap(&err, "postgres.GetItem(%s)", id)
	return s.getItem(ctx, s.db, id)
}

// getItem reads item id with its chart, codes, edits, queries and history
// through q (the pool, or the transaction that just changed the item).
func (s *Store) getItem(ctx context.Context, q queryer, id string) (it workitem.Item, history []workitem.Transition, err error) {
	row := q.QueryRowContext(ctx, `SELECT `+itemColumns+`, chart, codes, edits, autocode FROM work_items WHERE id = $1`, id)
	it, err = scanFullItem(row)
	if errors.Is(err, sql.ErrNoRows) {
		return it, nil, workitem.Errorf(workitem.NotFound, "work item %s not found", id)
	}
	if err != nil {
		return it, nil, err
	}
	return s.withLists(ctx, q, it)
}

// scanFullItem scans itemColumns followed by chart, codes, edits and the
// straight-through decision (NULL when the auto-coder never looked).
func scanFullItem(row *sql.Row) (workitem.Item, error) {
	var chart, codes, found, auto []byte
	it, err := scanItem(scanWithChart{row, []any{&chart, &codes, &found, &auto}})
	if err != nil {
		return it, err
	}
	if auto != nil {
		it.AutoCode = &workitem.AutoDecision{}
		if err := json.Unmarshal(auto, it.AutoCode); err != nil {
			return it, err
		}
	}
	var sc storedChart
	if err := json.Unmarshal(chart, &sc); err != nil {
		return it, err
	}
	it.Chart = sc.Chart
	it.Codes = &workitem.Assignment{}
	if err := json.Unmarshal(codes, it.Codes); err != nil {
		return it, err
	}
	return it, json.Unmarshal(found, &it.Edits)
}

// withLists adds the item's queries and reads its history through q.
func (s *Store) withLists(ctx context.Context, q queryer, it workitem.Item) (workitem.Item, []workitem.Transition, error) {
	var err error
	if it.Queries, err = s.queriesOf(ctx, q, it.ID); err != nil {
		return it, nil, err
	}
	history, err := s.history(ctx, q, it.ID)
	return it, history, err
}

type scanWithChart struct {
	row   *sql.Row
	extra []any
}

func (s scanWithChart) Scan(dest ...any) error { return s.row.Scan(append(dest, s.extra...)...) }

func (s *Store) history(ctx context.Context, q queryer, id string) ([]workitem.Transition, error) {
	rows, err := q.QueryContext(ctx, `SELECT at, actor, from_status, to_status, reason FROM work_item_history WHERE work_item_id = $1 ORDER BY seq`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []workitem.Transition
	for rows.Next() {
		var t workitem.Transition
		if err := rows.Scan(&t.At, &t.Actor, &t.From, &t.To, &t.Reason); err != nil {
			return nil, err
		}
		t.At = t.At.UTC()
		out = append(out, t)
	}
	return out, rows.Err()
}

// LeaseNext leases the highest-priority ready (or re-opened, or expired)
// item to coder for d, unless coder already holds max leases. It answers
// ok=false when there is nothing to lease. FOR UPDATE SKIP LOCKED means
// parallel callers never take the same item; a per-coder advisory lock
// makes the max-leases check exact under concurrency.
func (s *Store) LeaseNext(ctx context.Context, coder string, max int, d time.Duration) (it workitem.Item, ok bool, err error) {
	defer workitem.Wrap(&err, "postgres.LeaseNext")
	it, _, ok, err = s.leaseNext(ctx, coder, max, d, false)
	return it, ok, err
}

// LeaseNextChart is LeaseNext answering the leased item as GetItem does
// (chart, codes, edits, queries, history), read in the leasing transaction:
// one connection for the whole call instead of one for the lease and three
// more for the read, each a wait when the pool is busy.
func (s *Store) LeaseNextChart(ctx context.Context, coder string, max int, d time.Duration) (it workitem.Item, history []workitem.Transition, ok bool, err error) {
	defer workitem.Wrap(&err, "postgres.LeaseNext")
	return s.leaseNext(ctx, coder, max, d, true)
}

func (s *Store) leaseNext(ctx context.Context, coder string, max int, d time.Duration, full bool) (it workitem.Item, history []workitem.Transition, ok bool, err error) {
	err = s.db.Transact(ctx, nil, func(tx *sql.Tx) error {
		// The per-coder lock makes the count of held leases exact; the count
		// must be a later statement than the lock (in READ COMMITTED each
		// statement sees what committed before it started).
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('codebridge.lease:' || $1))`, coder); err != nil {
			return err
		}
		pick, found, err := pickLeasableTx(ctx, tx, coder, max)
		if err != nil || !found {
			return err
		}
		from, prevAssignee := pick.status, pick.assignee
		reason := "leased"
		if from == workitem.InProgress {
			reason = "lease of " + prevAssignee + " expired; leased"
		}
		p, err := s.transitionParams(pick.ref, from, workitem.InProgress, coder, reason)
		if err != nil {
			return err
		}
		p["item"], p["lease"] = pick.ref.id, fmt.Sprintf("%d milliseconds", d.Milliseconds())
		lease := leaseSQL
		if full {
			lease = leaseChartSQL
		}
		args, err := lease.args(p)
		if err != nil {
			return err
		}
		row := tx.QueryRowContext(ctx, lease.text, args...)
		if full {
			it, err = scanFullItem(row)
		} else {
			it, err = scanItem(row)
		}
		if err != nil {
			return outboxErr(err)
		}
		ok = true
		if !full {
			return nil
		}
		if !pick.queries { // most leased items have none: skip the read
			it.Queries = []workitem.Query{}
			history, err = s.history(ctx, tx, it.ID)
			return err
		}
		it, history, err = s.withLists(ctx, tx, it)
		return err
	})
	return it, history, ok, err
}

// leaseUpdate leases the item @item to @actor for @lease (an interval).
const leaseUpdate = `UPDATE work_items w SET status = 'in_progress', assignee = @actor, lease_expires = now() + @lease::interval,
	version = w.version + 1, updated_at = now(), reason = 'leased'
WHERE w.id = @item RETURNING `

// The lease, its history entry and its status event: one statement, which
// answers the item (leaseSQL) or the item with its chart, codes and edits
// (leaseChartSQL).
var (
	leaseSQL      = compose(fragment(leaseUpdate+prefixed("w", itemColumns)), historyCTE, sequenceCTE, outboxCTE)
	leaseChartSQL = compose(fragment(leaseUpdate+prefixed("w", itemColumns)+", w.chart, w.codes, w.edits, w.autocode"), historyCTE, sequenceCTE, outboxCTE)
)

func prefixed(alias, cols string) string {
	parts := strings.Split(cols, ",")
	for i, p := range parts {
		parts[i] = alias + "." + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}

type candidate struct {
	ref      itemRef
	assignee string
	status   workitem.Status
	priority int
	created  time.Time
	queries  bool // the item has physician queries (answered or open)
}

// pickLeasableTx locks the best item to lease to coder, unless coder
// already holds max leases: the head of the ready queue or the
// highest-priority expired lease, whichever comes first in queue order.
// Each candidate comes from its own partial index with FOR UPDATE SKIP
// LOCKED, so parallel callers never take the same item and never scan the
// table; the count and both candidates are one statement (one round trip;
// the count gates the scans as a one-time filter). The candidate not taken,
// if any, stays locked until the transaction ends, which costs a parallel
// caller nothing but a skip.
func pickLeasableTx(ctx context.Context, tx *sql.Tx, coder string, max int) (candidate, bool, error) {
	rows, err := tx.QueryContext(ctx, `
WITH held AS (SELECT count(*) AS n FROM work_items WHERE assignee = $1 AND status IN ('in_progress', 'on_hold')
              AND (status = 'on_hold' OR lease_expires > now())),
     r AS (SELECT id, encounter_id, patient_id, claim_id, status, assignee, priority, created_at FROM work_items
           WHERE status IN ('ready', 'reopened') AND (SELECT n FROM held) < $2
           ORDER BY priority DESC, created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED),
     e AS (SELECT id, encounter_id, patient_id, claim_id, status, assignee, priority, created_at FROM work_items
           WHERE status = 'in_progress' AND lease_expires <= now() AND (SELECT n FROM held) < $2
           ORDER BY priority DESC, created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
SELECT c.*, EXISTS (SELECT 1 FROM work_item_queries q WHERE q.work_item_id = c.id)
  FROM (SELECT * FROM r UNION ALL SELECT * FROM e) c`, coder, max)
	if err != nil {
		return candidate{}, false, err
	}
	defer rows.Close()
	var best candidate
	found := false
	for rows.Next() {
		var c candidate
		if err := rows.Scan(&c.ref.id, &c.ref.encounter, &c.ref.patient, &c.ref.claim, &c.status, &c.assignee, &c.priority, &c.created, &c.queries); err != nil {
			return best, false, err
		}
		if !found || c.priority > best.priority || (c.priority == best.priority && c.created.Before(best.created)) {
			best, found = c, true
		}
	}
	return best, found, rows.Err()
}
