package postgres

import (
	"encoding/json"
	"time"

	"github.com/lib/pq"

	"github.com/codebridge/codebridge/mapping"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// The one insert of each table a resource write, a work item's creation or
// transition, and the outbox write, and the statements composed of them.
// Every fragment takes its rows as arrays (one element per row), so the same
// text writes one row or a Bundle's worth.

// insertResources creates version 1 of resources at @now, one per element of
// @types, @ids, @hashes, @encounters, @patients and @summaries. A row whose
// (type, id) exists is left alone and not counted: the general path
// (insertVersionTx), which may race a concurrent create of the same id,
// compares the rows affected and retries as an update. The fresh paths
// (insertFreshTx, writeFresh) write server-assigned UUIDs that no row can
// hold; should one ever collide, the statement still fails, on the
// resource_versions primary key, and nothing is written. Version 1 is never
// a deletion: a DELETE of a resource that does not exist writes nothing.
const insertResources fragment = `INSERT INTO resources (type, id, version, last_updated, content_hash, deleted, encounter_id, patient_id, summary)
SELECT t, i, 1, @now, h, false, NULLIF(e, ''), NULLIF(p, ''), s::jsonb
  FROM unnest(@types::text[], @ids::text[], @hashes::bytea[], @encounters::text[], @patients::text[], @summaries::text[]) AS u(t, i, h, e, p, s)
ON CONFLICT (type, id) DO NOTHING`

// insertVersions stores version @version of resources as served (@raws).
const insertVersions fragment = `INSERT INTO resource_versions (type, id, version, last_updated, raw)
SELECT t, i, @version::int, @now, r FROM unnest(@types::text[], @ids::text[], @raws::bytea[]) AS u(t, i, r)`

// insertIdentifiers indexes resources' identifiers, one row per element of
// the @ident_ arrays.
const insertIdentifiers fragment = `INSERT INTO resource_identifiers (type, system, value, id)
SELECT * FROM unnest(@ident_types::text[], @ident_systems::text[], @ident_values::text[], @ident_ids::text[]) ON CONFLICT DO NOTHING`

// insertWorkItems creates work items (@item_ids, one per Encounter) as
// derived from their sources.
const insertWorkItems fragment = `INSERT INTO work_items (id, encounter_id, patient_id, class, status, priority, service_start, service_end, chart, reason, created_at, updated_at)
SELECT i, e, p, c, st, pr, NULLIF(ss, '')::timestamptz, NULLIF(se, '')::timestamptz, ch::jsonb, 'encounter received', @now, @now
  FROM unnest(@item_ids::text[], @item_encounters::text[], @item_patients::text[], @classes::text[], @statuses::text[],
              @priorities::int[], @starts::text[], @ends::text[], @charts::text[])
       AS u(i, e, p, c, st, pr, ss, se, ch)`

// insertHistory records the move of items @item_ids from @from_status to
// @statuses by @actor at @now.
const insertHistory fragment = `INSERT INTO work_item_history (work_item_id, at, actor, from_status, to_status, reason)
SELECT i, @now, @actor, @from_status::text, st, @reason::text FROM unnest(@item_ids::text[], @statuses::text[]) AS u(i, st)`

// sequenceOutbox is the outbox sequencing: it gives each of @event_keys its
// next sequence number, row-locking the key until commit so per key the
// commit order is the sequence order (outbox.go). The keys of one statement
// must be distinct (ON CONFLICT DO UPDATE touches a row once per statement).
// insertOutbox reads its RETURNING as the CTE seq.
const sequenceOutbox fragment = `INSERT INTO outbox_keys AS k (key, last_seq) SELECT unnest(@event_keys::text[]), 1
ON CONFLICT (key) DO UPDATE SET last_seq = k.last_seq + 1
RETURNING key, last_seq`

// insertOutbox enqueues the @event_ messages with the sequence numbers of
// the CTE seq (sequenceOutbox).
const insertOutbox fragment = `INSERT INTO outbox (topic, key, seq, value, headers)
SELECT m.topic, seq.key, seq.last_seq, m.v, m.h::jsonb
  FROM seq JOIN unnest(@event_topics::text[], @event_keys::text[], @event_values::bytea[], @event_headers::text[]) AS m(topic, key, v, h) USING (key)`

// The CTEs the compositions share.
var (
	resourcesCTE   = cte{"res", insertResources}
	versionsCTE    = cte{"ver", insertVersions}
	identifiersCTE = cte{"idn", insertIdentifiers}
	workItemsCTE   = cte{"wi", insertWorkItems}
	historyCTE     = cte{"hist", insertHistory}
	sequenceCTE    = cte{"seq", sequenceOutbox}
	outboxCTE      = cte{"event", insertOutbox}
)

// The composed statements of the write paths. Foreign keys between sibling
// CTEs (history to work item) are checked at the end of the statement, when
// both rows are in place.
var (
	// General path (writeTx), one resource: insert or update, then its
	// version and identifiers.
	insertResourceSQL    = compose(insertResources)
	insertVersionSQL     = compose(insertVersions)
	insertIdentifiersSQL = compose(insertIdentifiers)
	// newResourcesSQL writes fresh creates in the general transaction
	// (insertFreshTx): resources, versions, identifiers.
	newResourcesSQL = compose(insertIdentifiers, resourcesCTE, versionsCTE)
	// enqueueSQL is one outbox message (EnqueueTx).
	enqueueSQL = compose(insertOutbox, sequenceCTE)
	// transitionSQL records a status move and its event (transitionTx).
	transitionSQL = compose(insertOutbox, historyCTE, sequenceCTE)
	// newItemsSQL creates work items with their first history entry and
	// status event (createItemTx).
	newItemsSQL = compose(insertOutbox, workItemsCTE, historyCTE, sequenceCTE)
	// freshSQL is a whole fresh write: newResourcesSQL and newItemsSQL as
	// one statement (writeFresh).
	freshSQL = compose(insertOutbox, resourcesCTE, versionsCTE, identifiersCTE, workItemsCTE, historyCTE, sequenceCTE)
)

// resourceRows are resources of one version as the column arrays
// insertResources, insertVersions and insertIdentifiers take, and the write
// results they make. An empty (nil) array is sent as NULL, which unnest
// reads as no rows.
type resourceRows struct {
	types, ids, encs, pats, sums    []string
	hashes, raws                    [][]byte
	iTypes, iSystems, iValues, iIDs []string
	out                             []workitem.WriteResult
}

// add appends w, served as raw.
func (r *resourceRows) add(w workitem.ResourceWrite, raw []byte) {
	summary := w.Summary
	if len(summary) == 0 {
		summary = json.RawMessage("{}")
	}
	r.types, r.ids, r.encs, r.pats = append(r.types, w.Type), append(r.ids, w.ID), append(r.encs, w.EncounterID), append(r.pats, w.PatientID)
	r.sums, r.hashes, r.raws = append(r.sums, string(summary)), append(r.hashes, w.Hash), append(r.raws, raw)
	for _, ident := range w.Identifiers {
		r.iTypes, r.iSystems, r.iValues, r.iIDs = append(r.iTypes, w.Type), append(r.iSystems, ident.System), append(r.iValues, ident.Value), append(r.iIDs, w.ID)
	}
}

// params sets the rows' parameters in p, as version version written at now.
func (r resourceRows) params(p params, version int, now time.Time) params {
	p["now"], p["version"] = now, version
	p["types"], p["ids"], p["hashes"], p["encounters"], p["patients"] = pq.Array(r.types), pq.Array(r.ids), pq.Array(r.hashes), pq.Array(r.encs), pq.Array(r.pats)
	p["summaries"], p["raws"] = pq.Array(r.sums), pq.Array(r.raws)
	p["ident_types"], p["ident_systems"], p["ident_values"], p["ident_ids"] = pq.Array(r.iTypes), pq.Array(r.iSystems), pq.Array(r.iValues), pq.Array(r.iIDs)
	return p
}

// newFreshRows are ws as version 1, served at now.
func newFreshRows(ws []workitem.ResourceWrite, now time.Time) (resourceRows, error) {
	var r resourceRows
	r.out = make([]workitem.WriteResult, len(ws))
	for i, w := range ws {
		raw, err := w.Serve(1, now)
		if err != nil {
			return resourceRows{}, err
		}
		r.add(w, raw)
		r.out[i] = workitem.WriteResult{StoredResource: workitem.StoredResource{Type: w.Type, ID: w.ID, Version: 1, LastUpdated: now, Raw: raw}, Created: true}
	}
	return r, nil
}

// itemRows are new work items as the column arrays insertWorkItems takes.
type itemRows struct {
	ids, encs, pats, classes, statuses, starts, ends, charts []string
	prios                                                    []int64
}

// add appends a new item id of Encounter enc, as derived in d.
func (r *itemRows) add(id, enc string, d mapping.Derived) error {
	chart, err := json.Marshal(storedChart{Chart: d.Chart, Sources: d.Chart.Sources})
	if err != nil {
		return err
	}
	r.ids, r.encs, r.pats, r.classes, r.statuses = append(r.ids, id), append(r.encs, enc), append(r.pats, d.PatientID), append(r.classes, d.Class), append(r.statuses, string(d.Status))
	r.prios, r.starts, r.ends, r.charts = append(r.prios, int64(d.Priority)), append(r.starts, timeText(d.ServiceStart)), append(r.ends, timeText(d.ServiceEnd)), append(r.charts, string(chart))
	return nil
}

// params sets the items' parameters in p, with those of their first
// history entry (insertHistory) by actor.
func (r itemRows) params(p params, actor string) params {
	p["item_ids"], p["item_encounters"], p["item_patients"], p["classes"], p["statuses"] = pq.Array(r.ids), pq.Array(r.encs), pq.Array(r.pats), pq.Array(r.classes), pq.Array(r.statuses)
	p["priorities"], p["starts"], p["ends"], p["charts"] = pq.Array(r.prios), pq.Array(r.starts), pq.Array(r.ends), pq.Array(r.charts)
	p["actor"], p["from_status"], p["reason"] = actor, "", "encounter received"
	return p
}

// eventRows are outbox messages as the column arrays insertOutbox takes.
type eventRows struct {
	topics, keys, headers []string
	values                [][]byte
}

// add appends ev, unless it has no topic (no status topic configured).
func (r *eventRows) add(ev outboxEvent) {
	if ev.topic == "" {
		return
	}
	r.topics, r.keys, r.values, r.headers = append(r.topics, ev.topic), append(r.keys, ev.key), append(r.values, ev.value), append(r.headers, ev.headers)
}

// params sets the events' parameters in p.
func (r eventRows) params(p params) params {
	p["event_topics"], p["event_keys"], p["event_values"], p["event_headers"] = pq.Array(r.topics), pq.Array(r.keys), pq.Array(r.values), pq.Array(r.headers)
	return p
}

// timeText renders an optional time as timestamptz text, "" for none.
func timeText(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}
