package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/codebridge/codebridge/mapping"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// storedChart is the chart column: the chart plus the resource versions it
// was built from, to tell new documentation from re-derivations.
type storedChart struct {
	Chart   *workitem.Chart `json:"chart"`
	Sources map[string]int  `json:"sources"`
}

// RebuildTx re-derives the work item of Encounter encounterID from its
// stored resources, inside tx: it creates the item when the Encounter first
// arrives, follows the Encounter's status (pending, ready, cancelled), and
// re-opens an already coded item when its documentation changes.
func (s *Store) RebuildTx(ctx context.Context, tx *sql.Tx, encounterID, actor string) error {
	sources, err := loadSourcesTx(ctx, tx, encounterID)
	if err != nil {
		return err
	}
	d, err := mapping.BuildChart(sources, s.now())
	if errors.Is(err, mapping.ErrNoEncounter) {
		return nil // its Conditions wait, stored, for the Encounter
	}
	if err != nil {
		return err
	}
	cur, found, err := lockItemByEncounterTx(ctx, tx, encounterID)
	if err != nil {
		return err
	}
	if !found {
		return s.createItemTx(ctx, tx, encounterID, d, actor)
	}
	return s.updateItemTx(ctx, tx, cur, d, actor)
}

func loadSourcesTx(ctx context.Context, tx *sql.Tx, encounterID string) ([]mapping.Source, error) {
	rows, err := tx.QueryContext(ctx, `
		WITH enc AS (SELECT patient_id FROM resources WHERE type = 'Encounter' AND id = $1)
		SELECT type, id, version, deleted, summary FROM resources WHERE encounter_id = $1
		UNION ALL
		SELECT r.type, r.id, r.version, r.deleted, r.summary FROM resources r, enc
		 WHERE enc.patient_id IS NOT NULL AND ((r.type = 'Patient' AND r.id = enc.patient_id) OR (r.type = 'Coverage' AND r.patient_id = enc.patient_id))`,
		encounterID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []mapping.Source
	for rows.Next() {
		var src mapping.Source
		if err := rows.Scan(&src.Type, &src.ID, &src.Version, &src.Deleted, &src.Summary); err != nil {
			return nil, err
		}
		out = append(out, src)
	}
	return out, rows.Err()
}

type itemRow struct {
	id      string
	status  workitem.Status
	version int
	chart   storedChart
}

func lockItemByEncounterTx(ctx context.Context, tx *sql.Tx, encounterID string) (itemRow, bool, error) {
	var r itemRow
	var chart []byte
	err := tx.QueryRowContext(ctx, `SELECT id, status, version, chart FROM work_items WHERE encounter_id = $1 FOR UPDATE`, encounterID).
		Scan(&r.id, &r.status, &r.version, &chart)
	if errors.Is(err, sql.ErrNoRows) {
		return r, false, nil
	}
	if err != nil {
		return r, false, err
	}
	if err := json.Unmarshal(chart, &r.chart); err != nil {
		return r, false, fmt.Errorf("work item %s chart: %w", r.id, err)
	}
	return r, true, nil
}

func (s *Store) createItemTx(ctx context.Context, tx *sql.Tx, encounterID string, d mapping.Derived, actor string) error {
	if d.Status == workitem.Cancelled {
		return nil // withdrawn before it was ever queued
	}
	chart, err := json.Marshal(storedChart{Chart: d.Chart, Sources: d.Chart.Sources})
	if err != nil {
		return err
	}
	id := uuid.NewString()
	now := s.now()
	_, err = tx.ExecContext(ctx, `INSERT INTO work_items (id, encounter_id, patient_id, class, status, priority, service_start, service_end, chart, reason, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'encounter received', $10, $10)`,
		id, encounterID, d.PatientID, d.Class, d.Status, d.Priority, d.ServiceStart, d.ServiceEnd, jsonArg(chart), now)
	if err != nil {
		return err
	}
	return s.transitionTx(ctx, tx, itemRef{id: id, encounter: encounterID, patient: d.PatientID}, "", d.Status, actor, "encounter received")
}

// updateItemTx applies a re-derivation to an existing item.
func (s *Store) updateItemTx(ctx context.Context, tx *sql.Tx, cur itemRow, d mapping.Derived, actor string) error {
	changed := changedDocumentation(cur.chart.Sources, d.Chart.Sources)
	next, reason := nextStatus(cur.status, d.Status, changed)
	chart, err := json.Marshal(storedChart{Chart: d.Chart, Sources: d.Chart.Sources})
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE work_items SET patient_id = $2, class = $3, status = $4, priority = $5, service_start = $6, service_end = $7,
		chart = $8, version = version + 1, updated_at = $9, reason = CASE WHEN $10 = '' THEN reason ELSE $10 END,
		assignee = CASE WHEN $4 IN ('cancelled', 'pending') THEN '' ELSE assignee END,
		lease_expires = CASE WHEN $4 IN ('cancelled', 'pending') THEN NULL ELSE lease_expires END
		WHERE id = $1`,
		cur.id, d.PatientID, d.Class, next, d.Priority, d.ServiceStart, d.ServiceEnd, jsonArg(chart), s.now(), reason)
	if err != nil || next == cur.status {
		return err
	}
	if next == workitem.Cancelled {
		if err := s.cancelItemClaimTx(ctx, tx, cur.id); err != nil {
			return err
		}
	}
	return s.recordTransitionTx(ctx, tx, cur.id, cur.status, next, actor, reason)
}

// changedDocumentation lists the clinical resources (not Patient or
// Coverage) that are new or have a new version since the last derivation.
func changedDocumentation(before, after map[string]int) []string {
	var out []string
	for ref, v := range after {
		if strings.HasPrefix(ref, "Patient/") || strings.HasPrefix(ref, "Coverage/") {
			continue
		}
		if before[ref] != v {
			out = append(out, ref)
		}
	}
	sort.Strings(out)
	return out
}

// nextStatus decides the status after new or changed documentation.
func nextStatus(cur, want workitem.Status, changed []string) (workitem.Status, string) {
	switch {
	case want == workitem.Cancelled && cur != workitem.Cancelled:
		return workitem.Cancelled, "encounter withdrawn"
	case cur == workitem.Cancelled && want != workitem.Cancelled:
		return want, "encounter reinstated"
	case cur == workitem.Pending && want == workitem.Ready:
		return workitem.Ready, "encounter finished"
	case cur == workitem.Ready && want == workitem.Pending:
		return workitem.Pending, "encounter no longer finished"
	case len(changed) > 0 && (cur == workitem.Coded || cur == workitem.InReview || cur == workitem.Completed):
		return workitem.Reopened, "new documentation: " + strings.Join(changed, ", ")
	}
	return cur, ""
}

// itemRef names a work item and what its status events carry.
type itemRef struct {
	id, encounter, patient, claim string
}

// recordTransitionTx appends to the item's history and announces the change
// through the outbox, in the caller's transaction.
func (s *Store) recordTransitionTx(ctx context.Context, tx *sql.Tx, itemID string, from, to workitem.Status, actor, reason string) error {
	ref := itemRef{id: itemID}
	if s.o.StatusTopic != "" {
		if err := tx.QueryRowContext(ctx, `SELECT encounter_id, patient_id, claim_id FROM work_items WHERE id = $1`, itemID).
			Scan(&ref.encounter, &ref.patient, &ref.claim); err != nil {
			return err
		}
	}
	return s.transitionTx(ctx, tx, ref, from, to, actor, reason)
}

// transitionCTEs append a history entry ($1-$6) and, when $7 (the topic) is
// not empty, enqueues the status event ($7-$10) with the next sequence
// number of its key (EnqueueTx's sequencing, inlined so the history entry and
// the event are one round trip). Callers add it to their own statements as
// CTEs too (the lease), so its parameters come first.
const transitionCTEs = `
WITH hist AS (
    INSERT INTO work_item_history (work_item_id, at, actor, from_status, to_status, reason) VALUES ($1, $2, $3, $4, $5, $6)
), seq AS (
    INSERT INTO outbox_keys AS k (key, last_seq) SELECT $8::text, 1 WHERE $7::text <> ''
    ON CONFLICT (key) DO UPDATE SET last_seq = k.last_seq + 1
    RETURNING last_seq
), event AS (
    INSERT INTO outbox (topic, key, seq, value, headers) SELECT $7, $8, seq.last_seq, $9, $10::jsonb FROM seq
)`

// transitionTx records a transition of the item ref names (history and
// status event) with one statement. The caller holds the item's row lock,
// so one encounter's events get their outbox sequence in the order the
// changes commit.
func (s *Store) transitionTx(ctx context.Context, tx *sql.Tx, ref itemRef, from, to workitem.Status, actor, reason string) error {
	args, err := s.transitionArgs(ref, from, to, actor, reason)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, transitionCTEs+` SELECT 1`, args...)
	return outboxErr(err)
}

// transitionArgs are the ten parameters of transitionCTEs.
func (s *Store) transitionArgs(ref itemRef, from, to workitem.Status, actor, reason string) ([]any, error) {
	now := s.now()
	ev, err := s.statusEvent(ref, from, to, actor, now)
	if err != nil {
		return nil, err
	}
	return []any{ref.id, now, actor, string(from), string(to), reason, ev.topic, ev.key, ev.value, ev.headers}, nil
}

// outboxEvent is a status event as the outbox columns take it; all empty
// (topic "") when no status topic is configured.
type outboxEvent struct {
	topic, key, headers string
	value               []byte
}

// statusEvent is the status event of a transition of the item ref names.
func (s *Store) statusEvent(ref itemRef, from, to workitem.Status, actor string, at time.Time) (outboxEvent, error) {
	if s.o.StatusTopic == "" {
		return outboxEvent{value: []byte{}, headers: "{}"}, nil
	}
	ch := mapping.StatusChange{WorkItemID: ref.id, Encounter: "Encounter/" + ref.encounter, Status: string(to), PreviousStatus: string(from), Actor: actor, At: at}
	if ref.patient != "" {
		ch.Patient = "Patient/" + ref.patient
	}
	if ref.claim != "" {
		ch.Claim = "Claim/" + ref.claim
	}
	msg, err := mapping.StatusMessage(s.o.StatusTopic, ch)
	if err != nil {
		return outboxEvent{}, err
	}
	h, err := json.Marshal(outboxHeaders(msg.Headers))
	if err != nil {
		return outboxEvent{}, err
	}
	value := msg.Value
	if value == nil {
		value = []byte{}
	}
	return outboxEvent{topic: msg.Topic, key: msg.Key, value: value, headers: string(h)}, nil
}

// cancelItemClaimTx cancels the active Claim of a withdrawn item, if any.
func (s *Store) cancelItemClaimTx(ctx context.Context, tx *sql.Tx, itemID string) error {
	var claim string
	if err := tx.QueryRowContext(ctx, `SELECT claim_id FROM work_items WHERE id = $1`, itemID).Scan(&claim); err != nil || claim == "" {
		return err
	}
	return s.cancelClaimTx(ctx, tx, claim)
}
