package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/lib/pq"

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

// createItemTx creates Encounter encounterID's work item as derived in d,
// with its first history entry and status event: one statement
// (newItemsSQL, the work-item half of the fresh path's freshSQL).
func (s *Store) createItemTx(ctx context.Context, tx *sql.Tx, encounterID string, d mapping.Derived, actor string) error {
	if d.Status == workitem.Cancelled {
		return nil // withdrawn before it was ever queued
	}
	now := s.now()
	items, events, err := s.newItems([]mapping.Derived{d}, []string{encounterID}, actor, now)
	if err != nil {
		return err
	}
	_, err = newItemsSQL.exec(ctx, tx, events.params(items.params(params{"now": now}, actor)))
	return outboxErr(err)
}

// updateItemTx applies a re-derivation to an existing item.
func (s *Store) updateItemTx(ctx context.Context, tx *sql.Tx, cur itemRow, d mapping.Derived, actor string) error {
	next, reason := workitem.NextStatus(cur.status, d.Status, workitem.ChangedDocumentation(cur.chart.Sources, d.Chart.Sources))
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

// transitionTx records a transition of the item ref names (history and
// status event) with one statement (transitionSQL). The caller holds the
// item's row lock, so one encounter's events get their outbox sequence in
// the order the changes commit.
func (s *Store) transitionTx(ctx context.Context, tx *sql.Tx, ref itemRef, from, to workitem.Status, actor, reason string) error {
	p, err := s.transitionParams(ref, from, to, actor, reason)
	if err != nil {
		return err
	}
	_, err = transitionSQL.exec(ctx, tx, p)
	return outboxErr(err)
}

// transitionParams are the parameters of insertHistory and the outbox
// fragments for a transition of the item ref names.
func (s *Store) transitionParams(ref itemRef, from, to workitem.Status, actor, reason string) (params, error) {
	now := s.now()
	ev, err := s.statusEvent(ref, from, to, actor, now)
	if err != nil {
		return nil, err
	}
	var events eventRows
	events.add(ev)
	return events.params(params{"now": now, "actor": actor, "from_status": string(from), "reason": reason,
		"item_ids": pq.Array([]string{ref.id}), "statuses": pq.Array([]string{string(to)})}), nil
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
