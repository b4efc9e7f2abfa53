package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

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
// and codes each as the "auto" actor when its suggested codes are complete
// (mapping.AutoAssignment) and the edits (StoreOptions.Check) find no error; a coded item then
// completes (issuing the Claim) or goes to QA review like any coded item.
// The others stay ready for a coder, with the reason noted (one statement
// for all of them). Items are taken with FOR UPDATE SKIP LOCKED, so several
// workers and replicas share the queue, and a coder's lease wins a race.
//
// Looking at several items per transaction is what keeps the auto-coder
// cheap beside ingest: most items are skipped (incomplete suggestions, an
// edit), and a transaction per skip was a third of the machine at 300 new
// items a second. A small batch holds few row locks for a few milliseconds;
// coders' leases skip locked rows and take the next item.
//
// An item that fails on its own (a chart that does not decode, an edit
// engine error, a refused write) must not hold up the queue behind it: the
// batch is rolled back, the item is noted as failed in a transaction of its
// own, and counted (Failed); the next batch takes the others again. A
// database that is unavailable fails the batch (Transient).
func (s *Store) AutoCodeBatch(ctx context.Context, qaRate float64, max int) (counts workitem.AutoCounts, err error) {
	defer workitem.Wrap(&err, "postgres.AutoCodeBatch")
	err = s.db.Transact(ctx, nil, func(tx *sql.Tx) error {
		counts = workitem.AutoCounts{}
		picks, err := pickAutoCodeTx(ctx, tx, max)
		if err != nil {
			return err
		}
		var skipIDs, skipNotes, skipEdits []string
		for _, p := range picks {
			coded, note, edits, err := s.autoCodeItemTx(ctx, tx, p, qaRate)
			if err != nil {
				return &autoItemError{id: p.id, err: err}
			}
			if coded {
				counts.Coded++
				continue
			}
			skipIDs, skipNotes, skipEdits = append(skipIDs, p.id), append(skipNotes, note), append(skipEdits, edits)
			counts.Skipped++
		}
		return noteAutoSkipsTx(ctx, tx, skipIDs, skipNotes, skipEdits)
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

// autoCodeItemTx looks at one picked item: it codes it straight through
// (coded) or says why not (note, and the edits found, as JSON).
func (s *Store) autoCodeItemTx(ctx context.Context, tx *sql.Tx, p autoPick, qaRate float64) (coded bool, note, edits string, err error) {
	var sc storedChart
	if err := json.Unmarshal(p.chart, &sc); err != nil {
		return false, "", "", fmt.Errorf("chart: %w", err)
	}
	as, reason := mapping.AutoAssignment(sc.Chart)
	var es []workitem.Edit
	if reason == "" {
		if es, err = s.checkTx(ctx, tx, sc.Chart, as); err != nil {
			return false, "", "", err
		}
		reason = errorCodes(es)
	}
	if reason == "" {
		return true, "", "", s.autoCodeTx(ctx, tx, p.id, p.class, as, es, qaRate)
	}
	found, _ := json.Marshal(nonNilEdits(es))
	return false, "not coded straight through: " + reason, string(found), nil
}

// noteAutoSkipsTx marks the skipped items seen at their version, with why.
func noteAutoSkipsTx(ctx context.Context, tx *sql.Tx, ids, notes, edits []string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, `UPDATE work_items w SET autocode_version = w.version, autocode_note = u.note, edits = u.edits::jsonb, updated_at = now()
		FROM unnest($1::text[], $2::text[], $3::text[]) AS u(id, note, edits) WHERE w.id = u.id`,
		pq.Array(ids), pq.Array(notes), pq.Array(edits))
	return err
}

// noteAutoFailure marks an item the auto-coder failed on as seen at its
// current version, with the error, so it stays with the coders and out of
// the auto-coder's way until it changes. The error text is the store's and
// the edit engine's own (codes, paths), never chart content.
func (s *Store) noteAutoFailure(ctx context.Context, id string, cause error) error {
	_, err := s.db.ExecContext(ctx, `UPDATE work_items SET autocode_version = version, autocode_note = $2, updated_at = now()
		WHERE id = $1 AND status = 'ready' AND autocode_version < version`, id, "auto-coding failed: "+cause.Error())
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
// else items it skipped only because no code set covered their date,
// retried each minute (the code sets may have been loaded since). Each
// comes from its own partial index (migration 00014).
func pickAutoCodeTx(ctx context.Context, tx *sql.Tx, max int) ([]autoPick, error) {
	for _, q := range []string{
		`SELECT id, class, chart FROM work_items WHERE status = 'ready' AND autocode_version < version
		  ORDER BY priority DESC, created_at LIMIT $1 FOR UPDATE SKIP LOCKED`,
		`SELECT id, class, chart FROM work_items WHERE status = 'ready' AND autocode_note LIKE '%NO_RELEASE_FOR_DOS%'
		  AND updated_at < now() - interval '1 minute' ORDER BY updated_at LIMIT $1 FOR UPDATE SKIP LOCKED`,
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

// errorCodes names what blocks straight-through coding: every error edit,
// and a missing ICD-10-CM, ICD-10-PCS or HCPCS release for the date of
// service (a warning for a coder, but no basis for coding unattended).
// Missing MUE, PTP or CPT files (licensed data a site loads itself) do not
// block it; their warnings stay on the item for QA to see.
func errorCodes(es []workitem.Edit) string {
	var codes []string
	for _, e := range es {
		if e.Severity == "error" || blockingNoRelease(e) || blockingNCCIWarning[e.Code] {
			codes = append(codes, e.Code+" ("+e.Message+")")
		}
	}
	if len(codes) == 0 {
		return ""
	}
	return "edits " + strings.Join(codes, ", ")
}

func (s *Store) autoCodeTx(ctx context.Context, tx *sql.Tx, id, class string, as workitem.Assignment, es []workitem.Edit, qaRate float64) error {
	codes, _ := json.Marshal(as)
	found, _ := json.Marshal(nonNilEdits(es))
	if _, err := tx.ExecContext(ctx, `UPDATE work_items SET codes = $2, edits = $3, coded_by = 'auto', autocode_note = 'coded straight through' WHERE id = $1`,
		id, jsonArg(codes), jsonArg(found)); err != nil {
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

// blockingNCCIWarning are NCCI warnings that a person must resolve: units
// above an MUE of adjudication indicator 3 (payable only with
// documentation) and an MUE of 0 for a payer not known to be Medicare.
var blockingNCCIWarning = map[string]bool{"MUE_EXCEEDED_CLINICAL": true, "MUE_ZERO": true}

func blockingNoRelease(e workitem.Edit) bool {
	if e.Code != "NO_RELEASE_FOR_DOS" {
		return false
	}
	for _, sys := range []string{"no icd10cm ", "no icd10pcs ", "no hcpcs "} {
		if strings.HasPrefix(e.Message, sys) {
			return true
		}
	}
	return false
}
