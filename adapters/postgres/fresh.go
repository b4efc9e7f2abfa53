package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

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
// processes). It is not a second way to write: freshSQL is composed of the
// same per-table fragments (writes.go) the general path runs one or a few
// at a time (insertResourceSQL, newResourcesSQL, newItemsSQL), with the
// same parameters built the same way (resourceRows, newItems). The general
// path (WriteResources' transaction) stays the one source of truth for what
// a write means; this one derives the work items with the same
// mapping.BuildChart from the same sources loadSourcesTx would read, and
// tests compare the two paths' results row by row.

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
	items, events, err := s.newItems(p.items, p.encs, actor, now)
	if err != nil {
		return nil, err
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if _, err = freshSQL.exec(ctx, conn, events.params(items.params(r.params(params{}, 1, now), actor))); err != nil {
		return nil, err
	}
	return r.out, nil
}

// newItems are the rows of new work items derived as ds for Encounters
// encs, with their status events (from no status to the derived one).
func (s *Store) newItems(ds []mapping.Derived, encs []string, actor string, now time.Time) (itemRows, eventRows, error) {
	var items itemRows
	var events eventRows
	for j, d := range ds {
		id := uuid.NewString()
		if err := items.add(id, encs[j], d); err != nil {
			return itemRows{}, eventRows{}, err
		}
		ev, err := s.statusEvent(itemRef{id: id, encounter: encs[j], patient: d.PatientID}, "", d.Status, actor, now)
		if err != nil {
			return itemRows{}, eventRows{}, err
		}
		events.add(ev)
	}
	return items, events, nil
}
