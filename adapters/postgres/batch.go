package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/lib/pq"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// isFresh reports whether w creates a resource under a new server-assigned
// id (a POST without If-None-Exist): such a row cannot exist yet, so it
// needs no lock or lookup and can be inserted in a batch with its peers.
func isFresh(w workitem.ResourceWrite) bool {
	return w.Method == "POST" && w.IfNoneExist == "" && w.IfMatch == 0
}

// insertFreshTx inserts fresh creates with three multi-row statements
// (resources, versions, identifiers) instead of five round trips each:
// the database round trips, not the parse, bound bundle throughput.
func (s *Store) insertFreshTx(ctx context.Context, tx *sql.Tx, ws []*workitem.ResourceWrite) ([]workitem.WriteResult, error) {
	if len(ws) == 0 {
		return nil, nil
	}
	now := s.now()
	flat := make([]workitem.ResourceWrite, len(ws))
	for i, w := range ws {
		flat[i] = *w
	}
	r, err := newFreshRows(flat, now)
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO resources (type, id, version, last_updated, content_hash, deleted, encounter_id, patient_id, summary)
		SELECT t, i, 1, $1, h, false, NULLIF(e, ''), NULLIF(p, ''), s::jsonb
		  FROM unnest($2::text[], $3::text[], $4::bytea[], $5::text[], $6::text[], $7::text[]) AS u(t, i, h, e, p, s)`,
		now, pq.Array(r.types), pq.Array(r.ids), pq.Array(r.hashes), pq.Array(r.encs), pq.Array(r.pats), pq.Array(r.sums)); err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO resource_versions (type, id, version, last_updated, raw)
		SELECT t, i, 1, $1, r FROM unnest($2::text[], $3::text[], $4::bytea[]) AS u(t, i, r)`,
		now, pq.Array(r.types), pq.Array(r.ids), pq.Array(r.raws)); err != nil {
		return nil, err
	}
	if len(r.iTypes) == 0 {
		return r.out, nil
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO resource_identifiers (type, system, value, id)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) ON CONFLICT DO NOTHING`,
		pq.Array(r.iTypes), pq.Array(r.iSystems), pq.Array(r.iValues), pq.Array(r.iIDs))
	return r.out, err
}

// freshRows are version-1 rows of new resources as column arrays, for
// multi-row inserts through unnest, and the write results they make.
type freshRows struct {
	types, ids, encs, pats, sums    []string
	hashes, raws                    [][]byte
	iTypes, iSystems, iValues, iIDs []string
	out                             []workitem.WriteResult
}

func newFreshRows(ws []workitem.ResourceWrite, now time.Time) (freshRows, error) {
	n := len(ws)
	r := freshRows{types: make([]string, n), ids: make([]string, n), encs: make([]string, n), pats: make([]string, n), sums: make([]string, n),
		hashes: make([][]byte, n), raws: make([][]byte, n), iTypes: []string{}, iSystems: []string{}, iValues: []string{}, iIDs: []string{},
		out: make([]workitem.WriteResult, n)}
	for i, w := range ws {
		raw, err := w.Serve(1, now)
		if err != nil {
			return freshRows{}, err
		}
		summary := w.Summary
		if len(summary) == 0 {
			summary = json.RawMessage("{}")
		}
		r.types[i], r.ids[i], r.encs[i], r.pats[i], r.sums[i], r.hashes[i], r.raws[i] = w.Type, w.ID, w.EncounterID, w.PatientID, string(summary), w.Hash, raw
		for _, ident := range w.Identifiers {
			r.iTypes, r.iSystems, r.iValues, r.iIDs = append(r.iTypes, w.Type), append(r.iSystems, ident.System), append(r.iValues, ident.Value), append(r.iIDs, w.ID)
		}
		r.out[i] = workitem.WriteResult{StoredResource: workitem.StoredResource{Type: w.Type, ID: w.ID, Version: 1, LastUpdated: now, Raw: raw}, Created: true}
	}
	return r, nil
}
