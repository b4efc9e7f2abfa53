package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// coding is the locked row a coding action works on.
type coding struct {
	itemRow
	assignee string
	class    string
	codes    workitem.Assignment
}

func lockItemTx(ctx context.Context, tx *sql.Tx, id string) (coding, error) {
	var c coding
	var chart, codes []byte
	err := tx.QueryRowContext(ctx, `SELECT id, status, version, chart, assignee, class, codes FROM work_items WHERE id = $1 FOR UPDATE`, id).
		Scan(&c.id, &c.status, &c.version, &chart, &c.assignee, &c.class, &codes)
	if errors.Is(err, sql.ErrNoRows) {
		return c, workitem.Errorf(workitem.NotFound, "work item %s not found", id)
	}
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(chart, &c.chart); err != nil {
		return c, err
	}
	return c, json.Unmarshal(codes, &c.codes)
}

// item is the locked row as the domain rules see it.
func (c coding) item() workitem.Item {
	return workitem.Item{ID: c.id, Status: c.status, Assignee: c.assignee}
}

// SaveCodes replaces the assignment of item id and answers the edits found
// (callers read the item afterwards). ifVersion (0 = none) guards against
// silent overwrites from a second tab. It renews the coder's lease.
// Errors: NotFound, Conflict, Forbidden, Precondition, Invalid.
func (s *Store) SaveCodes(ctx context.Context, id string, a workitem.Actor, ifVersion int, as workitem.Assignment, lease time.Duration) (es []workitem.Edit, err error) {
	defer workitem.Wrap(&err, "postgres.SaveCodes(%s)", id)
	err = s.db.Transact(ctx, nil, func(tx *sql.Tx) error {
		c, err := lockItemTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if ifVersion != 0 && ifVersion != c.version {
			return workitem.Errorf(workitem.Precondition, "work item %s is at version %d, not %d: reload before saving", id, c.version, ifVersion)
		}
		if err := workitem.MayCode(c.item(), a); err != nil {
			return err
		}
		if es, err = s.checkTx(ctx, tx, c.chart.Chart, as); err != nil {
			return err
		}
		codes, _ := json.Marshal(as)
		found, _ := json.Marshal(nonNilEdits(es))
		_, err = tx.ExecContext(ctx, `UPDATE work_items SET codes = $2, edits = $3, version = version + 1, updated_at = $4,
			lease_expires = CASE WHEN status = 'in_progress' THEN $4::timestamptz + $5::interval ELSE lease_expires END WHERE id = $1`,
			id, jsonArg(codes), jsonArg(found), s.now(), intervalOf(lease))
		return err
	})
	if err != nil {
		return nil, err
	}
	// Callers read the item once, after this; reading it here too would
	// double the work of every save.
	return nonNilEdits(es), nil
}

func nonNilEdits(es []workitem.Edit) []workitem.Edit {
	if es == nil {
		return []workitem.Edit{}
	}
	return es
}

func intervalOf(d time.Duration) string {
	if d <= 0 {
		d = 30 * time.Minute
	}
	return strings.TrimSpace(time.Duration(d.Milliseconds() * int64(time.Millisecond)).String())
}

// Submit completes coding of item id: it re-runs the edits and refuses
// (Unprocessable, edits listed) while an error stands, or while warnings
// stand unacknowledged; then the item becomes coded and either goes to QA
// review (sampled, or every inpatient stay) or is completed. An auditor's
// submit of an in_review item completes it. Callers read the item
// afterwards. Errors: NotFound, Conflict, Forbidden, Unprocessable.
func (s *Store) Submit(ctx context.Context, id string, a workitem.Actor, o workitem.SubmitOptions) (err error) {
	defer workitem.Wrap(&err, "postgres.Submit(%s)", id)
	return s.db.Transact(ctx, nil, func(tx *sql.Tx) error {
		c, err := lockItemTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := workitem.MaySubmit(c.item(), a); err != nil {
			return err
		}
		es, err := s.checkTx(ctx, tx, c.chart.Chart, c.codes)
		if err != nil {
			return err
		}
		if err := workitem.RefuseOnEdits(es, o.AcknowledgeWarnings, len(c.codes.Diagnoses)); err != nil {
			return err
		}
		found, _ := json.Marshal(nonNilEdits(es))
		if _, err := tx.ExecContext(ctx, `UPDATE work_items SET edits = $2, version = version + 1, updated_at = $3 WHERE id = $1`, id, jsonArg(found), s.now()); err != nil {
			return err
		}
		return s.advanceTx(ctx, tx, c, a, o.QASampleRate)
	})
}

// routeCoded decides whether a coded item of class goes to QA review or is
// completed (workitem.RouteCoded), with the configured institutional
// classes.
func (s *Store) routeCoded(class string, qaRate float64) workitem.Status {
	return workitem.RouteCoded(class, s.o.ClaimOptions.InstitutionalClasses, qaRate, rand.Float64)
}

// advanceTx moves a submitted item on: in_progress → coded → in_review or
// completed; in_review → completed.
func (s *Store) advanceTx(ctx context.Context, tx *sql.Tx, c coding, a workitem.Actor, qaRate float64) error {
	if c.status == workitem.InReview {
		return s.completeTx(ctx, tx, c.id, workitem.InReview, a.Name, "review accepted")
	}
	if err := s.moveTx(ctx, tx, c.id, c.status, workitem.Coded, a.Name, "coded"); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE work_items SET coded_by = $2, assignee = '', lease_expires = NULL WHERE id = $1`, c.id, a.Name); err != nil {
		return err
	}
	if s.routeCoded(c.class, qaRate) == workitem.InReview {
		return s.moveTx(ctx, tx, c.id, workitem.Coded, workitem.InReview, a.Name, "routed to QA review")
	}
	return s.completeTx(ctx, tx, c.id, workitem.Coded, a.Name, "coding completed")
}

// completeTx issues the item's Claim and completes it. When the chart
// cannot make a valid Claim, the item stays where it is with the blocking
// edit recorded, and the caller sees it in the answer.
func (s *Store) completeTx(ctx context.Context, tx *sql.Tx, id string, from workitem.Status, actor, reason string) error {
	_, blocking, err := s.issueClaimTx(ctx, tx, id, actor)
	if err != nil {
		return err
	}
	if blocking != nil {
		b, _ := json.Marshal([]workitem.Edit{*blocking})
		_, err := tx.ExecContext(ctx, `UPDATE work_items SET edits = edits || $2::jsonb, reason = $3 WHERE id = $1`, id, jsonArg(b), "claim blocked: "+blocking.Code)
		return err
	}
	return s.moveTx(ctx, tx, id, from, workitem.Completed, actor, reason)
}

// moveTx applies one checked status transition, recorded and announced.
func (s *Store) moveTx(ctx context.Context, tx *sql.Tx, id string, from, to workitem.Status, actor, reason string) error {
	if err := workitem.Move(from, to); err != nil {
		return err
	}
	// Going to review keeps the coder's assignment as submitted, for the
	// accuracy record written when the review completes.
	ref := itemRef{id: id}
	if err := tx.QueryRowContext(ctx, `UPDATE work_items SET status = $2, reason = $3, version = version + 1, updated_at = $4,
		coder_codes = CASE WHEN $2::text = 'in_review' THEN codes ELSE coder_codes END WHERE id = $1
		RETURNING encounter_id, patient_id, claim_id`,
		id, to, reason, s.now()).Scan(&ref.encounter, &ref.patient, &ref.claim); err != nil {
		return err
	}
	if from == workitem.InReview && to == workitem.Completed {
		if err := s.recordQATx(ctx, tx, id, actor); err != nil {
			return err
		}
	}
	return s.transitionTx(ctx, tx, ref, from, to, actor, reason)
}

// OpenQuery puts a leased item on hold for a physician query. The query
// must follow compliant query practice (workitem.CheckQuery): a question,
// clinical indicators, no payment wording, and either no choices or at
// least two besides "other / clinically undetermined". Errors: NotFound,
// Conflict, Forbidden, Unprocessable (with an issue per rule broken).
func (s *Store) OpenQuery(ctx context.Context, id string, a workitem.Actor, q workitem.Query) (out workitem.Query, err error) {
	defer workitem.Wrap(&err, "postgres.OpenQuery(%s)", id)
	if issues := workitem.CheckQuery(q); len(issues) > 0 {
		return out, workitem.Errorf(workitem.Unprocessable, "the query does not follow compliant query practice").WithIssues(issues...)
	}
	err = s.db.Transact(ctx, nil, func(tx *sql.Tx) error {
		c, err := lockItemTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := workitem.MayOpenQuery(c.item(), a); err != nil {
			return err
		}
		out = workitem.Query{ID: uuid.NewString(), Question: q.Question, Indicators: q.Indicators, Options: q.Options, Status: "open", AskedBy: a.Name, AskedAt: s.now().Format(time.RFC3339)}
		ind, _ := json.Marshal(nonNilStrings(q.Indicators))
		opts, _ := json.Marshal(nonNilStrings(q.Options))
		if _, err := tx.ExecContext(ctx, `INSERT INTO work_item_queries (id, work_item_id, question, indicators, options, asked_by, asked_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			out.ID, id, q.Question, jsonArg(ind), jsonArg(opts), a.Name, s.now()); err != nil {
			return err
		}
		if err := s.writeQueryCommunicationTx(ctx, tx, id, out.ID); err != nil {
			return err
		}
		return s.moveTx(ctx, tx, id, workitem.InProgress, workitem.OnHold, a.Name, "physician query")
	})
	return out, err
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// AnswerQuery records the answer to an open query and returns the item to
// the queue, at the top. Errors: NotFound, Conflict, Forbidden, Invalid.
func (s *Store) AnswerQuery(ctx context.Context, id, qid string, a workitem.Actor, answer string) (err error) {
	defer workitem.Wrap(&err, "postgres.AnswerQuery(%s)", id)
	if err := workitem.MayAnswerQuery(a.Role); err != nil {
		return err
	}
	if strings.TrimSpace(answer) == "" {
		return workitem.Errorf(workitem.Invalid, "answer is required")
	}
	return s.db.Transact(ctx, nil, func(tx *sql.Tx) error {
		c, err := lockItemTx(ctx, tx, id)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE work_item_queries SET status = 'answered', answer = $3, answered_by = $4, answered_at = $5
			WHERE id = $1 AND work_item_id = $2 AND status = 'open'`, qid, id, answer, a.Name, s.now())
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return workitem.Errorf(workitem.NotFound, "no open query %s on work item %s", qid, id)
		}
		if err := s.writeQueryCommunicationTx(ctx, tx, id, qid); err != nil {
			return err
		}
		if c.status != workitem.OnHold {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE work_items SET assignee = '', lease_expires = NULL,
			priority = (SELECT coalesce(max(priority), 0) + 1 FROM work_items) WHERE id = $1`, id); err != nil {
			return err
		}
		return s.moveTx(ctx, tx, id, workitem.OnHold, workitem.Ready, a.Name, "query answered")
	})
}

// queriesOf lists an item's queries.
func (s *Store) queriesOf(ctx context.Context, q queryer, id string) ([]workitem.Query, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, question, indicators, options, status, asked_by, asked_at, answer, answered_by, answered_at
		FROM work_item_queries WHERE work_item_id = $1 ORDER BY asked_at, id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []workitem.Query{}
	for rows.Next() {
		var q workitem.Query
		var ind, opts []byte
		var asked time.Time
		var answered sql.NullTime
		if err := rows.Scan(&q.ID, &q.Question, &ind, &opts, &q.Status, &q.AskedBy, &asked, &q.Answer, &q.AnsweredBy, &answered); err != nil {
			return nil, err
		}
		_ = json.Unmarshal(ind, &q.Indicators)
		_ = json.Unmarshal(opts, &q.Options)
		q.AskedAt = asked.UTC().Format(time.RFC3339)
		if answered.Valid {
			q.AnsweredAt = answered.Time.UTC().Format(time.RFC3339)
		}
		out = append(out, q)
	}
	return out, rows.Err()
}
