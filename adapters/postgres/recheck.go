package postgres

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/lib/pq"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// recheckState serialises the re-check rounds of one store: each round
// drops the release list of its own CodeStore before it locks its items, so
// its edits see every release committed before the locking statement (the
// store's shared list may be up to releaseTTL old, or refreshed by a
// concurrent save from a query older than the round).
type recheckState struct {
	mu    sync.Mutex
	codes *CodeStore
	grace time.Duration // recheckGrace; tests set 0
}

// recheckGrace is how long after the re-check first sees a release it
// starts on it: longer than any process's cached release list lives
// (releaseTTL), so an edit check made after the re-check started — a
// coder's save in this or another process — saw the release, and one made
// before is re-checked. The edits of a save in the grace may miss it; the
// re-check that follows corrects them.
const recheckGrace = releaseTTL + 3*time.Second

// RecheckActor is the actor of the history entries the release re-check
// writes.
const RecheckActor = "system"

// waitingStatuses are workitem.WaitingStatuses as a SQL array argument.
func waitingStatuses() any {
	s := make([]string, len(workitem.WaitingStatuses))
	for i, w := range workitem.WaitingStatuses {
		s[i] = string(w)
	}
	return pq.Array(s)
}

// Fragments of the re-check statements: the releases still being
// re-checked (pend), and which items one of them covers.
const (
	// recheckPending are the releases whose re-check is not done.
	// A release is re-checked from its started_at (seen + recheckGrace).
	recheckPending = `pend AS (SELECT r.id, r.system, r.version, r.valid_from, r.valid_to, k.started_at
		FROM code_release_rechecks k JOIN code_releases r ON r.id = k.release_id
		WHERE k.done_at IS NULL AND k.started_at <= statement_timestamp())`
	// recheckItem: w is waiting ($1, workitem.WaitingStatuses) and holds an
	// assignment (a diagnosis, line or procedure object; an item the
	// straight-through coder left has none, and its own retry on a release:
	// pickAutoCodeTx).
	recheckItem = `w.status = ANY($1::text[])
		AND (w.codes->'diagnoses' @> '[{}]' OR w.codes->'lines' @> '[{}]' OR w.codes->'procedures' @> '[{}]')`
	// recheckCovers: release p covers w's dates of service and w's edits
	// were last computed before the re-check of p started. The encounter's
	// dates widened by a day each side cover the local date the edits use
	// (mapping.EncounterDates: the facility's zone; the discharge date of an
	// inpatient stay, within the stay) in any zone; re-checking an item
	// whose edits come out the same only costs the check. An item without
	// dates is always covered.
	recheckCovers = `(w.edits_checked_at IS NULL OR w.edits_checked_at < p.started_at)
		AND (w.service_start IS NULL OR (w.service_start - interval '1 day')::date <= p.valid_to)
		AND (coalesce(w.service_end, w.service_start) IS NULL OR (coalesce(w.service_end, w.service_start) + interval '1 day')::date >= p.valid_from)`
)

// RecheckAfterRelease is one round of the re-check of waiting work items
// after a code-set release is loaded (the yearly roll-over: a release for
// FY2027 loaded in November re-checks the charts of October and November
// still being worked). It
//
//   - notes every release it has not seen yet (code_release_rechecks,
//     migration 00019), by whichever process loaded it: `codes load` or
//     `codes fetch` in another process, or a release replaced under its
//     version;
//   - while a release is not done, locks up to max waiting items
//     (workitem.WaitingStatuses) with a stored assignment whose dates of
//     service it covers and whose edits were computed before its re-check
//     started, FOR UPDATE SKIP LOCKED (a coder saving the item wins; the
//     item is taken by a later round), and re-runs the edit checker
//     (StoreOptions.Check) on the stored assignment, in one transaction;
//   - stores edits that changed, with a history entry by "system" naming
//     the releases and the edits added and removed, and marks every item
//     looked at (edits_checked_at);
//   - marks a release done once no item it covers is left to re-check.
//
// It never changes an assignment, a status, the item's version (a coder's
// If-Match stays good; the edits are read fresh with the item), a
// completed or cancelled item, or a Claim, and writes no status event (a
// change of edits is not a status change; saving codes writes none
// either). An item the check fails on is noted in its history and keeps
// its edits; the next save computes them. Several processes may run it at
// once: the row locks and edits_checked_at share the work.
// Errors: Transient, Internal.
func (s *Store) RecheckAfterRelease(ctx context.Context, max int) (counts workitem.RecheckCounts, err error) {
	defer workitem.Wrap(&err, "postgres.RecheckAfterRelease")
	if s.o.Check == nil { // once, before any item is locked or noted
		return counts, workitem.Errorf(workitem.Internal, "the store has no edit checker")
	}
	if max <= 0 {
		max = 16
	}
	var pending bool
	if err := s.db.QueryRowContext(ctx, `WITH seen AS (
			INSERT INTO code_release_rechecks (release_id, started_at)
			SELECT r.id, clock_timestamp() + $1::interval FROM code_releases r
			 WHERE NOT EXISTS (SELECT 1 FROM code_release_rechecks k WHERE k.release_id = r.id)
			ON CONFLICT (release_id) DO NOTHING RETURNING 1)
		SELECT EXISTS (SELECT 1 FROM seen) OR EXISTS (SELECT 1 FROM code_release_rechecks WHERE done_at IS NULL)`,
		fmt.Sprintf("%d microseconds", s.recheck.grace.Microseconds())).Scan(&pending); err != nil {
		return counts, classify(err)
	}
	if !pending {
		return counts, nil
	}
	s.recheck.mu.Lock()
	defer s.recheck.mu.Unlock()
	s.recheck.codes.invalidate()
	err = s.db.Transact(ctx, nil, func(tx *sql.Tx) error {
		counts = workitem.RecheckCounts{}
		picks, err := pickRecheckTx(ctx, tx, max)
		if err != nil {
			return err
		}
		for _, p := range picks {
			changed, err := s.recheckItemTx(ctx, tx, p)
			if err != nil { // the item's own failure, as in AutoCodeBatch
				return &autoItemError{id: p.id, err: err}
			}
			if changed {
				counts.Updated++
			} else {
				counts.Unchanged++
			}
		}
		return nil
	})
	var ie *autoItemError
	if errors.As(err, &ie) && ctx.Err() == nil && !isTransient(err) {
		if ferr := s.noteRecheckFailure(ctx, ie.id, ie.err); ferr != nil {
			return workitem.RecheckCounts{}, classify(ferr)
		}
		return workitem.RecheckCounts{Failed: 1}, nil
	}
	if err != nil {
		return workitem.RecheckCounts{}, classify(err)
	}
	if counts.Looked() < max {
		if err := s.finishRechecks(ctx); err != nil {
			return counts, classify(err)
		}
	}
	return counts, nil
}

// recheckPick is an item locked for the re-check.
type recheckPick struct {
	id       string
	status   workitem.Status
	chart    []byte
	codes    []byte
	edits    []byte
	releases string    // the pending releases that cover it: "icd10cm FY2027, ..."
	at       time.Time // the start of the locking statement: edits_checked_at
}

// pickRecheckTx locks the next items to re-check, at most max.
func pickRecheckTx(ctx context.Context, tx *sql.Tx, max int) ([]recheckPick, error) {
	rows, err := tx.QueryContext(ctx, `WITH `+recheckPending+`
		SELECT w.id, w.status, w.chart, w.codes, w.edits, m.names, statement_timestamp()
		  FROM work_items w
		  CROSS JOIN LATERAL (SELECT string_agg(p.system || ' ' || p.version, ', ' ORDER BY p.system, p.version) AS names
		                        FROM pend p WHERE `+recheckCovers+`) m
		 WHERE `+recheckItem+` AND m.names IS NOT NULL
		 ORDER BY w.id LIMIT $2 FOR UPDATE OF w SKIP LOCKED`, waitingStatuses(), max)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []recheckPick
	for rows.Next() {
		var p recheckPick
		if err := rows.Scan(&p.id, &p.status, &p.chart, &p.codes, &p.edits, &p.releases, &p.at); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// recheckItemTx re-runs the edits of one locked item on its stored
// assignment and stores them when they changed; it answers whether they
// did.
func (s *Store) recheckItemTx(ctx context.Context, tx *sql.Tx, p recheckPick) (bool, error) {
	var sc storedChart
	if err := json.Unmarshal(p.chart, &sc); err != nil {
		return false, fmt.Errorf("chart: %w", err)
	}
	if sc.Chart == nil {
		return false, errors.New("chart: empty")
	}
	var as workitem.Assignment
	if err := json.Unmarshal(p.codes, &as); err != nil {
		return false, fmt.Errorf("codes: %w", err)
	}
	var old []workitem.Edit
	if err := json.Unmarshal(p.edits, &old); err != nil {
		old = nil // unreadable stored edits are replaced
	}
	es, err := s.o.Check(ctx, s.recheck.codes.OnTx(tx), sc.Chart, as)
	if err != nil {
		return false, err
	}
	found, _ := json.Marshal(nonNilEdits(es))
	before, _ := json.Marshal(nonNilEdits(old))
	if bytes.Equal(found, before) {
		_, err := tx.ExecContext(ctx, `UPDATE work_items SET edits_checked_at = $2 WHERE id = $1`, p.id, p.at)
		return false, err
	}
	now := s.now()
	if _, err := tx.ExecContext(ctx, `UPDATE work_items SET edits = $2, edits_checked_at = $3, updated_at = $4 WHERE id = $1`,
		p.id, jsonArg(found), p.at, now); err != nil {
		return false, err
	}
	reason := "edits re-checked after code-set release " + p.releases + " was loaded: " + editsDiff(old, es)
	_, err = tx.ExecContext(ctx, `INSERT INTO work_item_history (work_item_id, at, actor, from_status, to_status, reason) VALUES ($1, $2, $3, $4, $4, $5)`,
		p.id, now, RecheckActor, p.status, reason)
	return true, err
}

// editsDiff summarises how the edits changed, by code (and the code set a
// coverage note names): "added DX_HEADER; removed
// NO_RELEASE_FOR_DOS(icd10cm)", or "messages changed".
func editsDiff(old, now []workitem.Edit) string {
	key := func(e workitem.Edit) string {
		if e.Covers != "" {
			return e.Code + "(" + e.Covers + ")"
		}
		return e.Code
	}
	count := func(es []workitem.Edit) map[string]int {
		m := map[string]int{}
		for _, e := range es {
			m[key(e)]++
		}
		return m
	}
	was, is := count(old), count(now)
	var added, removed []string
	for k, n := range is {
		if n > was[k] {
			added = append(added, k)
		}
	}
	for k, n := range was {
		if n > is[k] {
			removed = append(removed, k)
		}
	}
	sort.Strings(added)
	sort.Strings(removed)
	var parts []string
	if len(added) > 0 {
		parts = append(parts, "added "+strings.Join(added, ", "))
	}
	if len(removed) > 0 {
		parts = append(parts, "removed "+strings.Join(removed, ", "))
	}
	if len(parts) == 0 {
		return "messages changed"
	}
	return strings.Join(parts, "; ")
}

// noteRecheckFailure marks an item the re-check failed on as looked at,
// keeping its edits, with the error in its history (the store's and the
// edit engine's own text: codes and paths, never chart content). A
// locked item is left for a later round.
func (s *Store) noteRecheckFailure(ctx context.Context, id string, cause error) error {
	return s.db.Transact(ctx, nil, func(tx *sql.Tx) error {
		var status string
		err := tx.QueryRowContext(ctx, `UPDATE work_items w SET edits_checked_at = statement_timestamp()
			WHERE w.id = $1 AND w.status = ANY($2::text[])
			  AND w.id = (SELECT id FROM work_items WHERE id = $1 FOR UPDATE SKIP LOCKED)
			RETURNING w.status`, id, waitingStatuses()).Scan(&status)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO work_item_history (work_item_id, at, actor, from_status, to_status, reason) VALUES ($1, $2, $3, $4, $4, $5)`,
			id, s.now(), RecheckActor, status, "edits re-check after a code-set release failed ("+cause.Error()+"); the edits shown are from before it, the next save re-checks them")
		return err
	})
}

// finishRechecks marks done every pending release that no waiting item is
// left to re-check for (one still locked by a coder keeps it pending).
func (s *Store) finishRechecks(ctx context.Context) error {
	_, err := s.db.ExecContext(ctx, `WITH `+recheckPending+`
		UPDATE code_release_rechecks k SET done_at = clock_timestamp()
		  FROM pend p
		 WHERE k.release_id = p.id
		   AND NOT EXISTS (SELECT 1 FROM work_items w WHERE `+recheckItem+` AND `+recheckCovers+`)`, waitingStatuses())
	return err
}
