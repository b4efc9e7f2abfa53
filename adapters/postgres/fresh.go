package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/lib/pq"

	"github.com/codebridge/codebridge/mapping"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// The fresh-write path: one statement for a write that can touch nothing
// stored.
//
// Telehealth platforms and EHR exports send a visit as one transaction
// Bundle of POSTs linked by urn:uuid (Patient, Encounter, its Conditions,
// Procedures and notes). Every resource gets a new server-assigned id, so
// no stored row can name any of them: there is nothing to read, lock or
// re-derive but the new work items themselves. Such a write goes to the
// database as ONE statement — resources, versions, identifiers, work items,
// their history and status events in data-modifying CTEs — which PostgreSQL
// runs atomically on its own, instead of the general path's BEGIN, ~10
// statements and COMMIT (each a round trip and a wake-up of both
// processes). The general path (WriteResources' transaction) stays the one
// source of truth for what a write means; this one derives the work items
// with the same mapping.BuildChart from the same sources loadSourcesTx would
// read, and tests compare the two paths' results row by row.

// freshPlan is a write that qualifies for the one-statement path.
type freshPlan struct {
	ws    []workitem.ResourceWrite
	items []mapping.Derived
	encs  []string // the Encounter of each item
}

// planFresh reports whether ws can be written by writeFresh: every write
// creates a resource under a new server-assigned id (isFresh), no inbound
// message key is to be recorded, and every Encounter whose work item the
// writes change is itself created here, with its Patient (if any) created
// here too. Then every source of those work items is in ws. It derives the
// work items (nil when work items are off).
func (s *Store) planFresh(ctx context.Context, ws []workitem.ResourceWrite, now time.Time) (freshPlan, bool, error) {
	if s.noFreshPath || len(ws) == 0 {
		return freshPlan{}, false, nil
	}
	if _, ok := workitem.MessageKeyFrom(ctx); ok {
		return freshPlan{}, false, nil
	}
	encounters := map[string]*workitem.ResourceWrite{}
	patients := map[string]bool{}
	for i := range ws {
		w := &ws[i]
		if !isFresh(*w) {
			return freshPlan{}, false, nil
		}
		switch w.Type {
		case "Encounter":
			encounters[w.ID] = w
		case "Patient":
			patients[w.ID] = true
		}
	}
	var touched []string
	seen := map[string]bool{}
	touch := func(enc string) {
		if !seen[enc] {
			seen[enc] = true
			touched = append(touched, enc)
		}
	}
	for _, w := range ws {
		switch w.Type {
		case "Patient", "Coverage":
			// Open Encounters of the patient are re-derived; a patient
			// created here has none but those created here.
			pid := patientOf(w)
			if pid == "" {
				continue
			}
			if !patients[pid] {
				return freshPlan{}, false, nil
			}
			for _, e := range ws {
				if e.Type == "Encounter" && e.PatientID == pid {
					touch(e.ID)
				}
			}
		default:
			if w.EncounterID == "" {
				continue
			}
			if encounters[w.EncounterID] == nil {
				return freshPlan{}, false, nil // documents a stored Encounter
			}
			touch(w.EncounterID)
		}
	}
	for _, enc := range touched {
		if pid := encounters[enc].PatientID; pid != "" && !patients[pid] {
			return freshPlan{}, false, nil // a stored Patient and its Coverages are sources too
		}
	}
	// Work items are derived as RebuildTx derives them.
	p := freshPlan{ws: ws}
	for _, enc := range touched {
		d, err := mapping.BuildChart(freshSources(ws, enc, encounters[enc].PatientID), now)
		if err != nil {
			return freshPlan{}, false, fmt.Errorf("work item of Encounter/%s: %w", enc, err)
		}
		if d.Status == workitem.Cancelled {
			continue // withdrawn before it was ever queued, as createItemTx
		}
		p.items, p.encs = append(p.items, d), append(p.encs, enc)
	}
	return p, true, nil
}

// freshSources are the sources loadSourcesTx would read for Encounter enc
// once ws is stored: what documents it, its Patient and the Patient's
// Coverages.
func freshSources(ws []workitem.ResourceWrite, enc, patient string) []mapping.Source {
	var out []mapping.Source
	for _, w := range ws {
		if w.EncounterID == enc ||
			(patient != "" && ((w.Type == "Patient" && w.ID == patient) || (w.Type == "Coverage" && w.PatientID == patient))) {
			summary := w.Summary
			if len(summary) == 0 {
				summary = json.RawMessage("{}")
			}
			out = append(out, mapping.Source{Type: w.Type, ID: w.ID, Version: 1, Summary: summary})
		}
	}
	return out
}

// freshSQL writes a fresh plan in one statement. The history rows reference
// the work items inserted by a sibling CTE: foreign keys are checked at the
// end of the statement, when both are in place.
const freshSQL = `
WITH res AS (
    INSERT INTO resources (type, id, version, last_updated, content_hash, deleted, encounter_id, patient_id, summary)
    SELECT t, i, 1, $1, h, false, NULLIF(e, ''), NULLIF(p, ''), s::jsonb
      FROM unnest($2::text[], $3::text[], $4::bytea[], $5::text[], $6::text[], $7::text[]) AS u(t, i, h, e, p, s)
), ver AS (
    INSERT INTO resource_versions (type, id, version, last_updated, raw)
    SELECT t, i, 1, $1, r FROM unnest($2::text[], $3::text[], $8::bytea[]) AS u(t, i, r)
), idn AS (
    INSERT INTO resource_identifiers (type, system, value, id)
    SELECT * FROM unnest($9::text[], $10::text[], $11::text[], $12::text[]) ON CONFLICT DO NOTHING
), wi AS (
    INSERT INTO work_items (id, encounter_id, patient_id, class, status, priority, service_start, service_end, chart, reason, created_at, updated_at)
    SELECT i, e, p, c, st, pr, NULLIF(ss, '')::timestamptz, NULLIF(se, '')::timestamptz, ch::jsonb, 'encounter received', $1, $1
      FROM unnest($13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::int[], $19::text[], $20::text[], $21::text[])
           AS u(i, e, p, c, st, pr, ss, se, ch)
), hist AS (
    INSERT INTO work_item_history (work_item_id, at, actor, from_status, to_status, reason)
    SELECT i, $1, $22, '', st, 'encounter received' FROM unnest($13::text[], $17::text[]) AS u(i, st)
), k AS (
    INSERT INTO outbox_keys AS k (key, last_seq) SELECT unnest($23::text[]), 1
    ON CONFLICT (key) DO UPDATE SET last_seq = k.last_seq + 1
    RETURNING key, last_seq
)
INSERT INTO outbox (topic, key, seq, value, headers)
SELECT m.topic, k.key, k.last_seq, m.v, m.h::jsonb
  FROM k JOIN unnest($24::text[], $23::text[], $25::bytea[], $26::text[]) AS m(topic, key, v, h) USING (key)`

// writeFresh stores a fresh plan with one statement (no explicit
// transaction: a single statement commits or fails as a whole). It runs on
// a pinned connection because database/sql re-runs a statement on another
// connection when the driver reports a bad connection, which lib/pq also
// does after the statement was sent; a re-run of a committed write would
// answer a duplicate-key error for a Bundle that is stored.
func (s *Store) writeFresh(ctx context.Context, p freshPlan, actor string, now time.Time) ([]workitem.WriteResult, error) {
	r, err := newFreshRows(p.ws, now)
	if err != nil {
		return nil, err
	}
	m := len(p.items)
	itemIDs, itemEncs, itemPats, classes, statuses := make([]string, m), make([]string, m), make([]string, m), make([]string, m), make([]string, m)
	prios, starts, ends, charts := make([]int64, m), make([]string, m), make([]string, m), make([]string, m)
	topics, keys, headers, values := []string{}, []string{}, []string{}, [][]byte{}
	for j, d := range p.items {
		chart, err := json.Marshal(storedChart{Chart: d.Chart, Sources: d.Chart.Sources})
		if err != nil {
			return nil, err
		}
		itemIDs[j], itemEncs[j], itemPats[j], classes[j], statuses[j] = uuid.NewString(), p.encs[j], d.PatientID, d.Class, string(d.Status)
		prios[j], starts[j], ends[j], charts[j] = int64(d.Priority), timeText(d.ServiceStart), timeText(d.ServiceEnd), string(chart)
		ev, err := s.statusEvent(itemRef{id: itemIDs[j], encounter: p.encs[j], patient: d.PatientID}, "", d.Status, actor, now)
		if err != nil {
			return nil, err
		}
		if ev.topic != "" {
			topics, keys, values, headers = append(topics, ev.topic), append(keys, ev.key), append(values, ev.value), append(headers, ev.headers)
		}
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	_, err = conn.ExecContext(ctx, freshSQL, now,
		pq.Array(r.types), pq.Array(r.ids), pq.Array(r.hashes), pq.Array(r.encs), pq.Array(r.pats), pq.Array(r.sums), pq.Array(r.raws),
		pq.Array(r.iTypes), pq.Array(r.iSystems), pq.Array(r.iValues), pq.Array(r.iIDs),
		pq.Array(itemIDs), pq.Array(itemEncs), pq.Array(itemPats), pq.Array(classes), pq.Array(statuses), pq.Array(prios),
		pq.Array(starts), pq.Array(ends), pq.Array(charts), actor,
		pq.Array(keys), pq.Array(topics), pq.Array(values), pq.Array(headers))
	if err != nil {
		return nil, err
	}
	return r.out, nil
}

// timeText renders an optional time as timestamptz text, "" for none.
func timeText(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}
