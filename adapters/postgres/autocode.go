package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/lib/pq"

	"github.com/codebridge/codebridge/mapping"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// AutoCounts says what one AutoCodeBatch did.
type AutoCounts struct {
	Coded   int // coded straight through (then completed or sent to QA review)
	Skipped int // looked at and left for a coder, with the reason noted
}

// Looked is how many items the batch looked at; 0 means the queue had
// nothing new.
func (c AutoCounts) Looked() int { return c.Coded + c.Skipped }

// AutoCodeBatch looks at up to max of the highest-priority ready items the
// auto-coder has not yet seen at their current version, in one transaction,
// and codes each as the "auto" actor when its suggested codes are complete
// (mapping.AutoAssignment) and the edits find no error; a coded item then
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
func (s *Store) AutoCodeBatch(ctx context.Context, check workitem.Checker, qaRate float64, max int) (counts AutoCounts, err error) {
	defer workitem.Wrap(&err, "postgres.AutoCodeBatch")
	err = s.db.Transact(ctx, nil, func(tx *sql.Tx) error {
		counts = AutoCounts{}
		picks, err := pickAutoCodeTx(ctx, tx, max)
		if err != nil {
			return err
		}
		var skipIDs, skipNotes, skipEdits []string
		for _, p := range picks {
			var sc storedChart
			if err := json.Unmarshal(p.chart, &sc); err != nil {
				return fmt.Errorf("work item %s chart: %w", p.id, err)
			}
			as, reason := mapping.AutoAssignment(sc.Chart)
			var es []workitem.Edit
			if reason == "" {
				if es, err = check(WithTx(ctx, tx), sc.Chart, as); err != nil {
					return err
				}
				reason = errorCodes(es)
			}
			if reason != "" {
				found, _ := json.Marshal(nonNilEdits(es))
				skipIDs, skipNotes, skipEdits = append(skipIDs, p.id), append(skipNotes, "not coded straight through: "+reason), append(skipEdits, string(found))
				counts.Skipped++
				continue
			}
			if err := s.autoCodeTx(ctx, tx, p.id, p.class, as, es, qaRate); err != nil {
				return err
			}
			counts.Coded++
		}
		if len(skipIDs) == 0 {
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE work_items w SET autocode_version = w.version, autocode_note = u.note, edits = u.edits::jsonb, updated_at = now()
			FROM unnest($1::text[], $2::text[], $3::text[]) AS u(id, note, edits) WHERE w.id = u.id`,
			pq.Array(skipIDs), pq.Array(skipNotes), pq.Array(skipEdits))
		return err
	})
	if err != nil {
		return AutoCounts{}, err
	}
	return counts, nil
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
		if e.Severity == "error" || blockingNoRelease(e) {
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
	defer func() {
		_, _ = tx.ExecContext(ctx, `UPDATE work_items SET autocode_version = version WHERE id = $1`, id)
	}()
	if class == "IMP" || class == "ACUTE" || rand.Float64() < qaRate {
		return s.moveTx(ctx, tx, id, workitem.Coded, workitem.InReview, "auto", "routed to QA review")
	}
	return s.completeTx(ctx, tx, id, workitem.Coded, "auto", "coding completed")
}

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
