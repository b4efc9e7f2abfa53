package postgres

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/codebridge/codebridge/mapping"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// Store is codebridge's PostgreSQL store. It is built whole by NewStore and
// never changed afterwards: workers and handlers may use it from the start.
type Store struct {
	db    *DB
	o     StoreOptions
	codes *CodeStore // the edits' code lookups, always on the coding transaction (codeLookup)
	// recheck is the release re-check's own code lookups (recheck.go): its
	// release list is read afresh in each round, on the round's
	// transaction, never from a list cached before a release committed.
	recheck *recheckState
	now     func() time.Time
	// noFreshPath turns off the one-statement path for fresh writes
	// (fresh.go), so tests can compare it with the general path.
	noFreshPath bool
}

// StoreOptions are the Store's settings and dependencies, all given to
// NewStore.
type StoreOptions struct {
	// StatusTopic is where work-item status events go (through the outbox,
	// in the transaction of the change); "" writes no events.
	StatusTopic string
	// ClaimsTopic is where issued Claims go (through the outbox); "" sends none.
	ClaimsTopic string
	// ClaimOptions is the Claim policy (claim types, telehealth POS, self-pay).
	ClaimOptions mapping.ClaimOptions
	// DeliverClaims queues every issued Claim version for the claim sink
	// (claim_deliveries, in the transaction that writes the version).
	DeliverClaims bool
	// Wake, when not nil, receives a signal (never blocking) after every
	// committed resource write, so in-process workers such as the
	// straight-through coder look at new ready items at once instead of at
	// their next poll.
	Wake chan<- struct{}
	// Check runs the claim edits of SaveCodes, Submit and AutoCodeBatch,
	// with a code lookup on the transaction holding the work item. Without
	// it those actions fail (Internal): a store must not code unchecked.
	Check workitem.Checker
	// AutoCode is the straight-through policy AutoCodeBatch decides by
	// (CODEBRIDGE_AUTOCODE_ALLOW_WARNINGS); the zero value allows no warning.
	AutoCode workitem.StraightThroughPolicy
}

// NewStore returns a store on db with the settings and dependencies in o.
func NewStore(db *DB, o StoreOptions) *Store {
	return &Store{db: db, o: o, codes: NewCodeStore(db), recheck: &recheckState{codes: NewCodeStore(db), grace: recheckGrace}, now: func() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }}
}

// checkTx runs the store's edit checker on chart and as, its code lookups
// on tx.
func (s *Store) checkTx(ctx context.Context, tx *sql.Tx, chart *workitem.Chart, as workitem.Assignment) ([]workitem.Edit, error) {
	if s.o.Check == nil {
		return nil, workitem.Errorf(workitem.Internal, "the store has no edit checker")
	}
	return s.o.Check(ctx, s.codes.OnTx(tx), chart, as)
}

// DB returns the underlying database handle.
func (s *Store) DB() *DB { return s.db }

// WriteResources stores ws in ONE transaction (a FHIR transaction Bundle or a
// single resource): either all are written, with their work items re-derived
// and announced, or none is. Errors: Precondition (If-Match, If-None-Match *
// on an existing resource, or ambiguous If-None-Exist), Conflict (among them
// a re-sent or re-used inbound message key: ErrDuplicateMessage,
// ErrMessageIDReused), Invalid, Internal.
func (s *Store) WriteResources(ctx context.Context, actor string, ws []workitem.ResourceWrite) (res []workitem.WriteResult, err error) {
	defer workitem.Wrap(&err, "postgres.WriteResources")
	now := s.now()
	fp, fresh, err := s.planFresh(ctx, ws, now)
	if err != nil {
		return nil, err
	}
	if fresh {
		if res, err = s.writeFresh(ctx, fp, actor, now); err != nil {
			return nil, classify(err)
		}
		s.wake()
		return res, nil
	}
	err = s.db.Transact(ctx, nil, func(tx *sql.Tx) error {
		if err := recordMessageTx(ctx, tx); err != nil {
			return err
		}
		res = make([]workitem.WriteResult, len(ws))
		touched := map[string]bool{}
		var order []string
		note := func(w workitem.ResourceWrite) error {
			encs, err := affectedEncountersTx(ctx, tx, w)
			for _, e := range encs {
				if !touched[e] {
					touched[e] = true
					order = append(order, e)
				}
			}
			return err
		}
		var fresh []*workitem.ResourceWrite
		var freshAt []int
		for i := range ws {
			w := ws[i]
			if isFresh(w) {
				fresh, freshAt = append(fresh, &ws[i]), append(freshAt, i)
				continue
			}
			r, err := s.writeTx(ctx, tx, &w)
			if err == nil && len(ws) > 1 && w.IfNoneExist != "" && r.ID != w.ID {
				err = &workitem.Error{Kind: workitem.Conflict, Err: workitem.ErrConditionalRace,
					Message: fmt.Sprintf("%s If-None-Exist matched a resource committed concurrently; retry the transaction", w.Type)}
			}
			if err != nil {
				return fmt.Errorf("entry %d: %w", i, err)
			}
			res[i] = r
			if !r.Unchanged {
				if err := note(w); err != nil {
					return err
				}
			}
		}
		created, err := s.insertFreshTx(ctx, tx, fresh)
		if err != nil {
			return err
		}
		for j, r := range created {
			res[freshAt[j]] = r
			if err := note(*fresh[j]); err != nil {
				return err
			}
		}
		return s.rebuildAllTx(ctx, tx, order, actor)
	})
	if err != nil {
		return nil, classify(err)
	}
	s.wake()
	return res, nil
}

// wake signals the Wake channel, never blocking.
func (s *Store) wake() {
	if s.o.Wake != nil {
		select {
		case s.o.Wake <- struct{}{}:
		default:
		}
	}
}

// recordMessageTx records the inbound message key ctx carries, if any, in
// the write's transaction, with its content hash. A key already recorded
// means the message was processed before and nothing is written:
// ErrDuplicateMessage when the hashes agree (or either is missing: rows
// from before migration 00016 have none), ErrMessageIDReused when they
// differ. Parallel deliveries of one message wait on the primary key for
// the first to commit or roll back.
func recordMessageTx(ctx context.Context, tx *sql.Tx) error {
	k, ok := workitem.MessageKeyFrom(ctx)
	if !ok {
		return nil
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO inbound_messages (source, message_id, content_sha256) VALUES ($1, $2, $3)
		ON CONFLICT DO NOTHING`, k.Source, k.ID, nullBytes(k.Hash))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return err
	}
	_, same, err := messageSeen(ctx, tx, k)
	switch {
	case err != nil:
		return err
	case !same:
		return &workitem.Error{Kind: workitem.Conflict, Err: workitem.ErrMessageIDReused, Message: "inbound message id already used for a different message"}
	}
	return &workitem.Error{Kind: workitem.Conflict, Err: workitem.ErrDuplicateMessage, Message: "inbound message already processed"}
}

// nullBytes is b, or SQL NULL when b is empty.
func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// messageSeen reads k's row: whether it exists, and whether its content
// hash agrees with k's (a missing hash on either side agrees).
func messageSeen(ctx context.Context, q queryer, k workitem.MessageKey) (seen, same bool, err error) {
	var hash []byte
	err = q.QueryRowContext(ctx, `SELECT content_sha256 FROM inbound_messages WHERE source = $1 AND message_id = $2`, k.Source, k.ID).Scan(&hash)
	if errors.Is(err, sql.ErrNoRows) {
		return false, false, nil
	}
	if err != nil {
		return false, false, err
	}
	return true, len(hash) == 0 || len(k.Hash) == 0 || bytes.Equal(hash, k.Hash), nil
}

// Withdrawn reports whether Type/id exists as a deleted (withdrawn)
// resource: read answers NotFound for it, but a feed about to re-create it
// needs to know it was withdrawn.
func (s *Store) Withdrawn(ctx context.Context, typ, id string) (bool, error) {
	var deleted bool
	err := s.db.QueryRowContext(ctx, `SELECT deleted FROM resources WHERE type = $1 AND id = $2`, typ, id).Scan(&deleted)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return deleted, err
}

// MessageProcessed reports whether a message with key k was committed
// (seen) and, if so, whether with the same content (sameContent: the
// recorded hash equals k.Hash, or either is missing), so a caller can
// answer a re-send without writing and recognise a re-used id.
func (s *Store) MessageProcessed(ctx context.Context, k workitem.MessageKey) (seen, sameContent bool, err error) {
	defer workitem.Wrap(&err, "postgres.MessageProcessed")
	seen, sameContent, err = messageSeen(ctx, s.db.DB, k)
	return seen, sameContent, classify(err)
}

func (s *Store) rebuildAllTx(ctx context.Context, tx *sql.Tx, encounters []string, actor string) error {
	for _, e := range encounters {
		if err := s.RebuildTx(ctx, tx, e, actor); err != nil {
			return fmt.Errorf("work item of Encounter/%s: %w", e, err)
		}
	}
	return nil
}

// affectedEncountersTx lists the Encounters whose chart a write changes: its
// own encounter, or for a Patient or Coverage every open Encounter of the
// patient.
func affectedEncountersTx(ctx context.Context, tx *sql.Tx, w workitem.ResourceWrite) ([]string, error) {
	switch w.Type {
	case "Patient", "Coverage":
		pid := patientOf(w)
		if pid == "" {
			return nil, nil
		}
		// Only open items need the new demographics or coverage: a completed
		// item's Claim is issued (corrections re-open it and re-derive it
		// then), and re-deriving every past visit of a patient on each new
		// Coverage would make ingest slower as history grows.
		return queryStrings(ctx, tx, `SELECT r.id FROM resources r LEFT JOIN work_items w ON w.encounter_id = r.id
			WHERE r.type = 'Encounter' AND r.patient_id = $1 AND (w.status IS NULL OR w.status NOT IN ('completed', 'cancelled'))
			ORDER BY r.id`, pid)
	}
	if w.EncounterID != "" {
		return []string{w.EncounterID}, nil
	}
	return nil, nil
}

// patientOf is the Patient a Patient or Coverage write is about: whose
// open Encounters it re-derives.
func patientOf(w workitem.ResourceWrite) string {
	if w.Type == "Patient" {
		return w.ID
	}
	return w.PatientID
}

// writeTx stores one resource version inside tx.
func (s *Store) writeTx(ctx context.Context, tx *sql.Tx, w *workitem.ResourceWrite) (workitem.WriteResult, error) {
	if w.IfNoneExist != "" {
		existing, err := s.claimConditionalTx(ctx, tx, *w)
		if err != nil || existing != "" {
			if err != nil {
				return workitem.WriteResult{}, err
			}
			cur, err := readTx(ctx, tx, w.Type, existing, 0)
			return workitem.WriteResult{StoredResource: cur, Unchanged: true}, err
		}
	}
	deleting := w.Method == "DELETE"
	if !deleting {
		// An identical re-send changes nothing, so it needs no row lock:
		// feeds re-send the same Organization, Practitioner and Patient
		// with every message, and locking them would serialise every
		// transaction that names them.
		if stored, same, err := unchangedTx(ctx, tx, *w); err != nil || same {
			return workitem.WriteResult{StoredResource: stored, Unchanged: true}, err
		}
	}
	cur, found, err := lockCurrentTx(ctx, tx, w.Type, w.ID)
	if err != nil {
		return workitem.WriteResult{}, err
	}
	if w.IfMatch != 0 && (!found || cur.version != w.IfMatch) {
		return workitem.WriteResult{}, workitem.Errorf(workitem.Precondition,
			"%s/%s: If-Match version %d does not match the current version %d", w.Type, w.ID, w.IfMatch, cur.version)
	}
	if w.IfNoneMatch && found && !cur.deleted {
		return workitem.WriteResult{}, workitem.Errorf(workitem.Precondition,
			"%s/%s: If-None-Match * but the resource exists (version %d)", w.Type, w.ID, cur.version)
	}
	if found && !deleting && !cur.deleted && bytes.Equal(cur.hash, w.Hash) {
		stored, err := readTx(ctx, tx, w.Type, w.ID, cur.version)
		return workitem.WriteResult{StoredResource: stored, Unchanged: true}, err
	}
	if deleting && (!found || cur.deleted) {
		return workitem.WriteResult{StoredResource: workitem.StoredResource{Type: w.Type, ID: w.ID, Version: cur.version, Deleted: true}, Unchanged: true}, nil
	}
	if deleting {
		// A delete keeps what the resource was indexed under, so its work
		// item can withdraw it.
		w.Hash, w.EncounterID, w.PatientID, w.Summary, w.Identifiers = cur.hash, cur.encounter, cur.patient, cur.summary, nil
	}
	return s.insertVersionTx(ctx, tx, *w, cur.version+1, deleting)
}

type current struct {
	version   int
	hash      []byte
	deleted   bool
	encounter string
	patient   string
	summary   []byte
}

// unchangedTx reports, without locking, whether w is identical to the
// current version (and satisfies its If-Match; a create-only write, with
// If-None-Match *, never is): then the write is a no-op and the stored
// version is returned. Read committed makes this a consistent answer: the
// identical write is ordered before any concurrent change of the resource.
func unchangedTx(ctx context.Context, tx *sql.Tx, w workitem.ResourceWrite) (workitem.StoredResource, bool, error) {
	var version int
	var hash []byte
	var deleted bool
	err := tx.QueryRowContext(ctx, `SELECT version, content_hash, deleted FROM resources WHERE type = $1 AND id = $2`, w.Type, w.ID).
		Scan(&version, &hash, &deleted)
	if errors.Is(err, sql.ErrNoRows) {
		return workitem.StoredResource{}, false, nil
	}
	if err != nil || deleted || !bytes.Equal(hash, w.Hash) || (w.IfMatch != 0 && w.IfMatch != version) || w.IfNoneMatch {
		return workitem.StoredResource{}, false, err
	}
	stored, err := readTx(ctx, tx, w.Type, w.ID, version)
	return stored, err == nil, err
}

// lockCurrentTx locks the resource's row, creating a placeholder-free lock
// for new ids through INSERT ... ON CONFLICT in insertVersionTx.
func lockCurrentTx(ctx context.Context, tx *sql.Tx, typ, id string) (current, bool, error) {
	var c current
	err := tx.QueryRowContext(ctx, `SELECT version, content_hash, deleted, coalesce(encounter_id, ''), coalesce(patient_id, ''), summary
		FROM resources WHERE type = $1 AND id = $2 FOR UPDATE`, typ, id).
		Scan(&c.version, &c.hash, &c.deleted, &c.encounter, &c.patient, &c.summary)
	if errors.Is(err, sql.ErrNoRows) {
		return current{}, false, nil
	}
	return c, err == nil, err
}

// insertVersionTx writes version version of w: version 1 through the
// resources fragment the fresh paths use too (insertResourceSQL), a later
// one as an update of the locked row; then the version and identifiers.
func (s *Store) insertVersionTx(ctx context.Context, tx *sql.Tx, w workitem.ResourceWrite, version int, deleted bool) (workitem.WriteResult, error) {
	now := s.now()
	raw, err := w.Serve(version, now)
	if err != nil {
		return workitem.WriteResult{}, err
	}
	var rows resourceRows
	rows.add(w, raw)
	p := rows.params(params{}, version, now)
	var res sql.Result
	if version == 1 {
		res, err = insertResourceSQL.exec(ctx, tx, p)
	} else {
		res, err = tx.ExecContext(ctx, `UPDATE resources SET version = $3, last_updated = $4, content_hash = $5, deleted = $6,
			encounter_id = NULLIF($7, ''), patient_id = NULLIF($8, ''), summary = $9 WHERE type = $1 AND id = $2`,
			w.Type, w.ID, version, now, w.Hash, deleted, w.EncounterID, w.PatientID, jsonArg(rows.sums[0]))
	}
	if err != nil {
		return workitem.WriteResult{}, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		// A concurrent create of the same id won; retry as an update of it.
		return s.writeTx(ctx, tx, &w)
	}
	if _, err := insertVersionSQL.exec(ctx, tx, p); err != nil {
		return workitem.WriteResult{}, err
	}
	if err := replaceIdentifiersTx(ctx, tx, w, p); err != nil {
		return workitem.WriteResult{}, err
	}
	stored := workitem.StoredResource{Type: w.Type, ID: w.ID, Version: version, LastUpdated: now, Raw: raw, Deleted: deleted}
	return workitem.WriteResult{StoredResource: stored, Created: version == 1}, nil
}

// replaceIdentifiersTx replaces the identifiers w is indexed under by those
// of p (resourceRows.params of w).
func replaceIdentifiersTx(ctx context.Context, tx *sql.Tx, w workitem.ResourceWrite, p params) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM resource_identifiers WHERE type = $1 AND id = $2`, w.Type, w.ID); err != nil {
		return err
	}
	if len(w.Identifiers) == 0 {
		return nil
	}
	_, err := insertIdentifiersSQL.exec(ctx, tx, p)
	return err
}

// claimConditionalTx implements If-None-Exist. It returns the id of the one
// existing match, "" when this write may create (having claimed the criteria
// in conditional_keys, whose primary key makes parallel identical requests
// wait for the first and then see its resource), or Precondition when the
// criteria match several resources.
func (s *Store) claimConditionalTx(ctx context.Context, tx *sql.Tx, w workitem.ResourceWrite) (string, error) {
	matches, err := matchCriteriaTx(ctx, tx, w.Type, w.IfNoneExist)
	if err != nil {
		return "", err
	}
	switch {
	case len(matches) == 1:
		return matches[0], nil
	case len(matches) > 1:
		return "", workitem.Errorf(workitem.Precondition, "If-None-Exist matches %d %s resources", len(matches), w.Type)
	}
	var claimed string
	err = tx.QueryRowContext(ctx, `INSERT INTO conditional_keys (type, criteria, id) VALUES ($1, $2, $3)
		ON CONFLICT (type, criteria) DO NOTHING RETURNING id`, w.Type, w.IfNoneExist, w.ID).Scan(&claimed)
	if err == nil {
		return "", nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", err
	}
	var winner string
	if err := tx.QueryRowContext(ctx, `SELECT id FROM conditional_keys WHERE type = $1 AND criteria = $2`, w.Type, w.IfNoneExist).Scan(&winner); err != nil {
		return "", err
	}
	return winner, nil
}

// matchCriteriaTx evaluates normalised criteria: "identifier=system|value"
// or "_id=id".
func matchCriteriaTx(ctx context.Context, tx queryer, typ, criteria string) ([]string, error) {
	name, value, _ := strings.Cut(criteria, "=")
	switch name {
	case "_id":
		return queryStrings(ctx, tx, `SELECT id FROM resources WHERE type = $1 AND id = $2 AND NOT deleted`, typ, value)
	case "identifier":
		system, val, hasSystem := cutPipe(value)
		if !hasSystem {
			return queryStrings(ctx, tx, `SELECT DISTINCT i.id FROM resource_identifiers i JOIN resources r ON r.type = i.type AND r.id = i.id
				WHERE i.type = $1 AND i.value = $2 AND NOT r.deleted ORDER BY 1`, typ, val)
		}
		return queryStrings(ctx, tx, `SELECT i.id FROM resource_identifiers i JOIN resources r ON r.type = i.type AND r.id = i.id
			WHERE i.type = $1 AND i.system = $2 AND i.value = $3 AND NOT r.deleted ORDER BY 1`, typ, system, val)
	}
	return nil, workitem.Errorf(workitem.Invalid, "If-None-Exist: unsupported search parameter %q (supported: identifier, _id)", name)
}

// cutPipe splits a token search value system|value; without a '|' the
// whole of v is the value.
func cutPipe(v string) (system, value string, ok bool) {
	system, value, ok = strings.Cut(v, "|")
	if !ok {
		return "", v, false
	}
	return system, value, true
}

// ReadResource returns the current version (version 0) or the given version.
// Errors: NotFound; a deleted resource's current read is NotFound too.
func (s *Store) ReadResource(ctx context.Context, typ, id string, version int) (r workitem.StoredResource, err error) {
	defer workitem.Wrap(&err, "postgres.ReadResource(%s/%s)", typ, id)
	return readTx(ctx, s.db.DB, typ, id, version)
}

func readTx(ctx context.Context, q queryer, typ, id string, version int) (workitem.StoredResource, error) {
	r := workitem.StoredResource{Type: typ, ID: id}
	var deleted bool
	err := q.QueryRowContext(ctx, `SELECT r.version, r.deleted FROM resources r WHERE r.type = $1 AND r.id = $2`, typ, id).Scan(&r.Version, &deleted)
	if errors.Is(err, sql.ErrNoRows) {
		return r, workitem.Errorf(workitem.NotFound, "%s/%s not found", typ, id)
	}
	if err != nil {
		return r, err
	}
	if version == 0 {
		if deleted {
			return r, workitem.Errorf(workitem.NotFound, "%s/%s was deleted", typ, id)
		}
		version = r.Version
	}
	r.Deleted = deleted && version == r.Version
	err = q.QueryRowContext(ctx, `SELECT version, last_updated, raw FROM resource_versions WHERE type = $1 AND id = $2 AND version = $3`,
		typ, id, version).Scan(&r.Version, &r.LastUpdated, &r.Raw)
	if errors.Is(err, sql.ErrNoRows) {
		return r, workitem.Errorf(workitem.NotFound, "%s/%s/_history/%d not found", typ, id, version)
	}
	r.LastUpdated = r.LastUpdated.UTC()
	return r, err
}

func queryStrings(ctx context.Context, q queryer, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// FindConditional answers the id of the one resource matching normalised
// If-None-Exist criteria, so a transaction can point its references at an
// existing resource before it is written. Errors: Precondition (several
// match), Invalid (unsupported criteria).
func (s *Store) FindConditional(ctx context.Context, typ, criteria string) (id string, found bool, err error) {
	defer workitem.Wrap(&err, "postgres.FindConditional(%s)", typ)
	ids, err := matchCriteriaTx(ctx, s.db.DB, typ, criteria)
	switch {
	case err != nil:
		return "", false, err
	case len(ids) > 1:
		return "", false, workitem.Errorf(workitem.Precondition, "If-None-Exist matches %d %s resources", len(ids), typ)
	case len(ids) == 1:
		return ids[0], true, nil
	}
	return "", false, nil
}
