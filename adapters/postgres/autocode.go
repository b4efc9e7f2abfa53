package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/lib/pq"

	"github.com/codebridge/codebridge/mapping"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// autoItemError is a failure that belongs to one item, not to the database.
type autoItemError struct {
	id  string
	err error
}

func (e *autoItemError) Error() string { return "work item " + e.id + ": " + e.err.Error() }
func (e *autoItemError) Unwrap() error { return e.err }

// AutoCodeBatch looks at up to max of the highest-priority ready items the
// auto-coder has not yet seen at their current version, in one transaction,
// and decides each by the straight-through policy (StoreOptions.AutoCode,
// workitem.StraightThroughPolicy) on the proposed assignment
// (mapping.AutoAssignment) and its edits (StoreOptions.Check). A coded item
// is coded as the "auto" actor, then completes (issuing the Claim) or goes
// to QA review like any coded item. The others stay ready for a coder; each
// item's decision and reasons are stored (autocode, one statement for all
// the skipped ones), with a one-line summary in autocode_note. Items are
// taken with FOR UPDATE SKIP LOCKED, so several workers and replicas share
// the queue, and a coder's lease wins a race.
//
// Looking at several items per transaction is what keeps the auto-coder
// cheap beside ingest: most items are skipped (incomplete suggestions, an
// edit), and a transaction per skip was a third of the machine at 300 new
// items a second. A small batch holds few row locks for a few milliseconds;
// coders' leases skip locked rows and take the next item.
//
// An item that fails on its own (a chart that does not decode, an edit
// engine error, a refused write) must not hold up the queue behind it: the
// batch is rolled back, the item is noted as failed (skipped with reason
// AUTOCODE_FAILED) in a transaction of its own, and counted (Failed); the
// next batch takes the others again. A database that is unavailable fails
// the batch (Transient).
func (s *Store) AutoCodeBatch(ctx context.Context, qaRate float64, max int) (counts workitem.AutoCounts, err error) {
	defer workitem.Wrap(&err, "postgres.AutoCodeBatch")
	err = s.db.Transact(ctx, nil, func(tx *sql.Tx) error {
		counts = workitem.AutoCounts{}
		picks, err := pickAutoCodeTx(ctx, tx, max)
		if err != nil {
			return err
		}
		var skips autoSkips
		for _, p := range picks {
			d, edits, err := s.autoCodeItemTx(ctx, tx, p, qaRate)
			if err != nil {
				return &autoItemError{id: p.id, err: err}
			}
			if d.Decision == workitem.AutoCoded {
				counts.Coded++
				continue
			}
			if err := skips.add(p.id, d, edits); err != nil {
				return &autoItemError{id: p.id, err: err}
			}
			counts.Skipped++
		}
		return skips.noteTx(ctx, tx)
	})
	var ie *autoItemError
	if errors.As(err, &ie) && ctx.Err() == nil && !isTransient(err) {
		if ferr := s.noteAutoFailure(ctx, ie.id, ie.err); ferr != nil {
			return workitem.AutoCounts{}, ferr
		}
		return workitem.AutoCounts{Failed: 1}, nil
	}
	if err != nil {
		return workitem.AutoCounts{}, classify(err)
	}
	return counts, nil
}

// autoCodeItemTx looks at one picked item: it decides by the policy, codes
// it straight through when the decision is coded, and answers the decision
// and the edits found (as JSON).
func (s *Store) autoCodeItemTx(ctx context.Context, tx *sql.Tx, p autoPick, qaRate float64) (d workitem.AutoDecision, edits string, err error) {
	var sc storedChart
	if err := json.Unmarshal(p.chart, &sc); err != nil {
		return d, "", fmt.Errorf("chart: %w", err)
	}
	if sc.Chart == nil {
		return d, "", errors.New("chart: empty")
	}
	as, unproposed := mapping.AutoAssignment(sc.Chart)
	var es []workitem.Edit
	if len(unproposed) == 0 {
		if es, err = s.checkTx(ctx, tx, sc.Chart, as); err != nil {
			return d, "", err
		}
	}
	d = s.o.AutoCode.Decide(sc.Chart, as, unproposed, es)
	if d.Decision == workitem.AutoCoded {
		return d, "", s.autoCodeTx(ctx, tx, p.id, p.class, as, es, d, qaRate)
	}
	found, _ := json.Marshal(nonNilEdits(es))
	return d, string(found), nil
}

// autoSkips are the skipped items of a batch, noted in one statement.
type autoSkips struct{ ids, notes, decisions, edits []string }

func (k *autoSkips) add(id string, d workitem.AutoDecision, edits string) error {
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	k.ids, k.notes, k.decisions, k.edits = append(k.ids, id), append(k.notes, d.Note()), append(k.decisions, string(b)), append(k.edits, edits)
	return nil
}

// noteTx marks the skipped items seen at their version, with the decision
// and its reasons.
func (k *autoSkips) noteTx(ctx context.Context, tx *sql.Tx) error {
	if len(k.ids) == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, `UPDATE work_items w SET autocode_version = w.version, autocode_note = u.note, autocode = u.decision::jsonb,
		autocode_at = now(), edits = u.edits::jsonb, updated_at = now()
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS u(id, note, decision, edits) WHERE w.id = u.id`,
		pq.Array(k.ids), pq.Array(k.notes), pq.Array(k.decisions), pq.Array(k.edits))
	return err
}

// noteAutoFailure marks an item the auto-coder failed on as seen at its
// current version, skipped with the error (AUTOCODE_FAILED), so it stays
// with the coders and out of the auto-coder's way until it changes. The
// error text is the store's and the edit engine's own (codes, paths), never
// chart content.
func (s *Store) noteAutoFailure(ctx context.Context, id string, cause error) error {
	d := workitem.Skip(workitem.AutoReason{Code: workitem.ReasonFailed,
		Message: "the straight-through coder could not look at this chart (" + cause.Error() + "); a coder codes it"})
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `UPDATE work_items SET autocode_version = version, autocode_note = $2, autocode = $3::jsonb,
		autocode_at = now(), updated_at = now()
		WHERE id = $1 AND status = 'ready' AND autocode_version < version`, id, "auto-coding failed: "+cause.Error(), string(b))
	return classify(err)
}

// isTransient reports whether err means the database was unavailable.
func isTransient(err error) bool {
	var de *workitem.Error
	return errors.As(classify(err), &de) && de.Kind == workitem.Transient
}

// autoPick is an item locked for the auto-coder.
type autoPick struct {
	id, class string
	chart     []byte
}

// pickAutoCodeTx locks the next items for the auto-coder, at most max: the
// head of the ready items it has not looked at in their current version,
// else items it skipped because no release of a code set the claim's codes
// come from (ICD-10-CM, ICD-10-PCS, HCPCS and its modifiers, the POA-exempt
// list: the notes the policy never allows away) or no ICD-10-CM Tabular List
// (an operator-supplied file, often loaded after the charts) covered their
// date, and only
// once a release of that code set was loaded after its decision
// (code_releases.loaded_at > autocode_at): the stored edits name the code
// set (covers). An item skipped for a missing NCCI PTP or MUE table (every
// chart of two or more lines where no PTP table is loaded) is not looked at
// again until it changes. Each comes from its own partial index (migration
// 00014).
func pickAutoCodeTx(ctx context.Context, tx *sql.Tx, max int) ([]autoPick, error) {
	for _, q := range []string{
		`SELECT id, class, chart FROM work_items WHERE status = 'ready' AND autocode_version < version
		  ORDER BY priority DESC, created_at LIMIT $1 FOR UPDATE SKIP LOCKED`,
		`SELECT w.id, w.class, w.chart FROM work_items w WHERE w.status = 'ready' AND w.autocode_note LIKE '%NO_RELEASE_FOR_DOS%'
		  AND w.autocode->>'decision' = 'skipped' AND w.updated_at < now() - interval '1 minute'
		  AND EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof(w.edits) = 'array' THEN w.edits ELSE '[]'::jsonb END) e
		    JOIN code_releases r ON r.system = CASE e->>'covers' WHEN 'hcpcsmod' THEN 'hcpcs' ELSE e->>'covers' END
		    WHERE e->>'code' = 'NO_RELEASE_FOR_DOS' AND e->>'covers' IN ('icd10cm', 'icd10pcs', 'hcpcs', 'hcpcsmod', 'poaexempt', 'icd10cm-tabular')
		      AND r.loaded_at > COALESCE(w.autocode_at, '-infinity'::timestamptz))
		  ORDER BY w.updated_at LIMIT $1 FOR UPDATE OF w SKIP LOCKED`,
	} {
		picks, err := scanAutoPicks(tx.QueryContext(ctx, q, max))
		if err != nil || len(picks) > 0 {
			return picks, err
		}
	}
	return nil, nil
}

func scanAutoPicks(rows *sql.Rows, err error) ([]autoPick, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []autoPick
	for rows.Next() {
		var p autoPick
		if err := rows.Scan(&p.id, &p.class, &p.chart); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// autoCodeTx codes item id with as as the "auto" actor, storing decision
// d, then completes it or routes it to QA review.
func (s *Store) autoCodeTx(ctx context.Context, tx *sql.Tx, id, class string, as workitem.Assignment, es []workitem.Edit, d workitem.AutoDecision, qaRate float64) error {
	codes, _ := json.Marshal(as)
	found, _ := json.Marshal(nonNilEdits(es))
	decision, _ := json.Marshal(d)
	if _, err := tx.ExecContext(ctx, `UPDATE work_items SET codes = $2, edits = $3, coded_by = 'auto', autocode_note = $4, autocode = $5,
		autocode_at = now() WHERE id = $1`,
		id, jsonArg(codes), jsonArg(found), d.Note(), jsonArg(decision)); err != nil {
		return err
	}
	if err := s.moveTx(ctx, tx, id, workitem.Ready, workitem.Coded, "auto", "coded straight through"); err != nil {
		return err
	}
	var err error
	if s.routeCoded(class, qaRate) == workitem.InReview {
		err = s.moveTx(ctx, tx, id, workitem.Coded, workitem.InReview, "auto", "routed to QA review")
	} else {
		err = s.completeTx(ctx, tx, id, workitem.Coded, "auto", "coding completed")
	}
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE work_items SET autocode_version = version WHERE id = $1`, id)
	return err
}
