package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"

	"github.com/codebridge/codebridge/mapping"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// AutoResult says what AutoCodeOne did.
type AutoResult int

// The results of one auto-coding attempt.
const (
	AutoIdle    AutoResult = iota // nothing to look at
	AutoSkipped                   // looked at an item and left it for a coder
	AutoCoded                     // coded an item straight through
)

// AutoCodeOne looks at the highest-priority ready item the auto-coder has
// not yet seen at its current version and codes it as the "auto" actor when
// its suggested codes are complete (mapping.AutoAssignment) and the edits
// find no error; it then completes (issuing the Claim) or goes to QA review
// like any coded item. Otherwise the item stays ready for a coder, with
// the reason noted. Items are taken with FOR UPDATE SKIP LOCKED, so several
// workers and replicas share the queue, and a coder's lease wins a race.
func (s *Store) AutoCodeOne(ctx context.Context, check workitem.Checker, qaRate float64) (res AutoResult, err error) {
	defer workitem.Wrap(&err, "postgres.AutoCodeOne")
	err = s.db.Transact(ctx, nil, func(tx *sql.Tx) error {
		id, class, chartJSON, found, err := pickAutoCodeTx(ctx, tx)
		if err != nil || !found {
			return err
		}
		var sc storedChart
		if err := json.Unmarshal(chartJSON, &sc); err != nil {
			return err
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
			res = AutoSkipped
			found, _ := json.Marshal(nonNilEdits(es))
			_, err := tx.ExecContext(ctx, `UPDATE work_items SET autocode_version = version, autocode_note = $2, edits = $3, updated_at = now() WHERE id = $1`,
				id, "not coded straight through: "+reason, jsonArg(found))
			return err
		}
		res = AutoCoded
		return s.autoCodeTx(ctx, tx, id, class, as, es, qaRate)
	})
	return res, err
}

// pickAutoCodeTx locks the next item for the auto-coder: the head of the
// ready items it has not looked at in their current version, else an item
// it skipped only because no code set covered its date, retried each minute
// (the code sets may have been loaded since). Each comes from its own
// partial index (migration 00014).
func pickAutoCodeTx(ctx context.Context, tx *sql.Tx) (id, class string, chart []byte, found bool, err error) {
	for _, q := range []string{
		`SELECT id, class, chart FROM work_items WHERE status = 'ready' AND autocode_version < version
		  ORDER BY priority DESC, created_at LIMIT 1 FOR UPDATE SKIP LOCKED`,
		`SELECT id, class, chart FROM work_items WHERE status = 'ready' AND autocode_note LIKE '%NO_RELEASE_FOR_DOS%'
		  AND updated_at < now() - interval '1 minute' ORDER BY updated_at LIMIT 1 FOR UPDATE SKIP LOCKED`,
	} {
		err = tx.QueryRowContext(ctx, q).Scan(&id, &class, &chart)
		if err == nil {
			return id, class, chart, true, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return "", "", nil, false, err
		}
	}
	return "", "", nil, false, nil
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
