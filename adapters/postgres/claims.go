package postgres

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/lib/pq"

	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// issueClaimTx builds and stores the Claim of a work item that is being
// completed, inside the completing transaction, and queues it for the
// claims topic through the outbox. A chart that cannot make a valid Claim
// (no insurance and self-pay off, no billing provider...) answers a
// blocking edit instead; the item then does not complete.
func (s *Store) issueClaimTx(ctx context.Context, tx *sql.Tx, itemID, actor string) (claimID string, blocking *workitem.Edit, err error) {
	in, prior, err := s.claimInputTx(ctx, tx, itemID)
	if errors.Is(err, mapping.ErrNoEncounter) {
		return "", &workitem.Edit{Code: "CLAIM_INVALID", Severity: "error", Target: "claim",
			Message: "the Encounter of this work item is not stored (or was deleted); a Claim cannot be built"}, nil
	}
	if err != nil {
		return "", nil, err
	}
	claim, err := mapping.BuildClaim(in)
	if err != nil {
		if workitem.KindOf(err) == workitem.Unprocessable {
			code := "CLAIM_INVALID"
			if errors.Is(err, mapping.ErrNoInsurance) {
				code = "CLAIM_NO_INSURANCE"
			}
			msg := err.Error()
			var we *workitem.Error
			if errors.As(err, &we) {
				msg = we.Message
			}
			return "", &workitem.Edit{Code: code, Severity: "error", Message: msg, Target: "claim"}, nil
		}
		return "", nil, err
	}
	raw, err := mapping.MarshalClaim(claim)
	if err != nil {
		return "", nil, err
	}
	if err := s.storeClaimTx(ctx, tx, in, raw); err != nil {
		return "", nil, err
	}
	if err := s.storeProvenanceTx(ctx, tx, in, actor); err != nil {
		return "", nil, err
	}
	if prior != "" {
		if err := s.cancelClaimTx(ctx, tx, prior); err != nil {
			return "", nil, err
		}
	}
	return in.ClaimID, nil, nil
}

// claimInputTx gathers what the Claim of itemID is built from.
func (s *Store) claimInputTx(ctx context.Context, tx *sql.Tx, itemID string) (mapping.ClaimInput, string, error) {
	var enc, prior string
	var version int
	var chartJSON, codesJSON []byte
	if err := tx.QueryRowContext(ctx, `SELECT encounter_id, claim_id, version, chart, codes FROM work_items WHERE id = $1`, itemID).
		Scan(&enc, &prior, &version, &chartJSON, &codesJSON); err != nil {
		return mapping.ClaimInput{}, "", err
	}
	var sc storedChart
	var as workitem.Assignment
	if err := json.Unmarshal(chartJSON, &sc); err != nil {
		return mapping.ClaimInput{}, "", err
	}
	if err := json.Unmarshal(codesJSON, &as); err != nil {
		return mapping.ClaimInput{}, "", err
	}
	sources, err := s.claimSourcesTx(ctx, tx, enc)
	if err != nil {
		return mapping.ClaimInput{}, "", err
	}
	in, err := mapping.ClaimInputFrom(sources, sc.Chart, as)
	if err != nil {
		return in, "", err
	}
	in.ClaimID, in.ItemID, in.ItemVersion, in.Created, in.Options = uuid.NewString(), itemID, version, s.now(), s.o.ClaimOptions
	if err := mapping.LookupPOAExempt(ctx, s.codes.OnTx(tx), &in); err != nil {
		return in, "", err
	}
	if prior != "" {
		in.Prior = "Claim/" + prior
	}
	return in, prior, nil
}

// claimSourcesTx loads the Encounter, Patient, Coverages and the
// Practitioners and Organizations the Encounter references.
func (s *Store) claimSourcesTx(ctx context.Context, tx *sql.Tx, enc string) ([]mapping.Source, error) {
	sources, err := loadSourcesTx(ctx, tx, enc)
	if err != nil {
		return nil, err
	}
	var refs []string
	for _, src := range sources {
		if src.Type == "Encounter" {
			if refs, err = mapping.ClaimRefs(src); err != nil {
				return nil, err
			}
		}
	}
	types, ids := make([]string, 0, len(refs)), make([]string, 0, len(refs))
	for _, r := range refs {
		ref, err := fhir.ParseReference(r)
		if err == nil {
			types, ids = append(types, ref.Type), append(ids, ref.ID)
		}
	}
	rows, err := tx.QueryContext(ctx, `SELECT r.type, r.id, r.version, r.deleted, r.summary FROM resources r
		JOIN unnest($1::text[], $2::text[]) AS u(t, i) ON r.type = u.t AND r.id = u.i`, pq.Array(types), pq.Array(ids))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var src mapping.Source
		if err := rows.Scan(&src.Type, &src.ID, &src.Version, &src.Deleted, &src.Summary); err != nil {
			return nil, err
		}
		sources = append(sources, src)
	}
	return sources, rows.Err()
}

func (s *Store) storeClaimTx(ctx context.Context, tx *sql.Tx, in mapping.ClaimInput, raw []byte) error {
	now := s.now()
	served, err := fhir.SetMeta(raw, "1", now)
	if err != nil {
		return err
	}
	prior := ""
	if in.Prior != "" {
		prior = in.Prior[len("Claim/"):]
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO claims (id, work_item_id, encounter_id, patient_id, status, version, last_updated, identifier, prior_id)
		VALUES ($1, $2, $3, $4, 'active', 1, $5, $6, $7)`,
		in.ClaimID, in.ItemID, in.EncounterID, in.PatientID, now, in.ItemID+"-v"+strconv.Itoa(in.ItemVersion), prior); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO claim_versions (id, version, last_updated, raw) VALUES ($1, 1, $2, $3)`, in.ClaimID, now, served); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE work_items SET claim_id = $2 WHERE id = $1`, in.ItemID, in.ClaimID); err != nil {
		return err
	}
	if err := s.enqueueDeliveryTx(ctx, tx, in.ClaimID, 1); err != nil {
		return err
	}
	return s.publishClaimTx(ctx, tx, in.ClaimID, served)
}

func (s *Store) publishClaimTx(ctx context.Context, tx *sql.Tx, id string, raw []byte) error {
	if s.o.ClaimsTopic == "" {
		return nil
	}
	return EnqueueTx(ctx, tx, mapping.ClaimMessage(s.o.ClaimsTopic, id, raw))
}

// cancelClaimTx makes a new version of an active Claim with status
// cancelled (a correction replaced it, or its Encounter was withdrawn) and
// streams it.
func (s *Store) cancelClaimTx(ctx context.Context, tx *sql.Tx, id string) error {
	var version int
	var status string
	var raw []byte
	err := tx.QueryRowContext(ctx, `SELECT c.version, c.status, v.raw FROM claims c JOIN claim_versions v ON v.id = c.id AND v.version = c.version
		WHERE c.id = $1 FOR UPDATE OF c`, id).Scan(&version, &status, &raw)
	if err != nil || status == "cancelled" {
		return err
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil {
		return err
	}
	doc["status"] = json.RawMessage(`"cancelled"`)
	b, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	now := s.now()
	if b, err = fhir.SetMeta(b, strconv.Itoa(version+1), now); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE claims SET status = 'cancelled', version = $2, last_updated = $3 WHERE id = $1`, id, version+1, now); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO claim_versions (id, version, last_updated, raw) VALUES ($1, $2, $3, $4)`, id, version+1, now, b); err != nil {
		return err
	}
	if err := s.enqueueDeliveryTx(ctx, tx, id, version+1); err != nil {
		return err
	}
	return s.publishClaimTx(ctx, tx, id, b)
}

// ReadClaim returns the current (version 0) or a given version of a Claim.
// Errors: NotFound.
func (s *Store) ReadClaim(ctx context.Context, id string, version int) (r workitem.StoredResource, err error) {
	defer workitem.Wrap(&err, "postgres.ReadClaim(%s)", id)
	q := `SELECT v.version, v.last_updated, v.raw FROM claims c JOIN claim_versions v ON v.id = c.id AND v.version = c.version WHERE c.id = $1`
	args := []any{id}
	if version > 0 {
		q, args = `SELECT version, last_updated, raw FROM claim_versions WHERE id = $1 AND version = $2`, []any{id, version}
	}
	r = workitem.StoredResource{Type: "Claim", ID: id}
	err = s.db.QueryRowContext(ctx, q, args...).Scan(&r.Version, &r.LastUpdated, &r.Raw)
	if errors.Is(err, sql.ErrNoRows) {
		return r, workitem.Errorf(workitem.NotFound, "Claim/%s not found", id)
	}
	r.LastUpdated = r.LastUpdated.UTC()
	return r, err
}

// SearchClaims answers Claims by encounter, patient, status and
// last-updated, oldest update first, keyset-paginated. Errors: Invalid.
func (s *Store) SearchClaims(ctx context.Context, f workitem.ClaimFilter) (out []workitem.StoredResource, next string, err error) {
	defer workitem.Wrap(&err, "postgres.SearchClaims")
	args := []any{f.Encounter, f.Patient, f.Status, f.UpdatedAfter}
	cond := `($1 = '' OR c.encounter_id = $1) AND ($2 = '' OR c.patient_id = $2) AND ($3 = '' OR c.status = $3) AND c.last_updated > $4`
	if f.Cursor != "" {
		_, t, id, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		args = append(args, t, id)
		cond += ` AND (c.last_updated, c.id) > ($5, $6)`
	}
	limit := f.Count
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	args = append(args, limit+1) // a parameter, so page sizes share one prepared statement
	rows, err := s.db.QueryContext(ctx, `SELECT c.id, v.version, v.last_updated, v.raw FROM claims c
		JOIN claim_versions v ON v.id = c.id AND v.version = c.version WHERE `+cond+
		fmt.Sprintf(` ORDER BY c.last_updated, c.id LIMIT $%d`, len(args)), args...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	for rows.Next() {
		r := workitem.StoredResource{Type: "Claim"}
		if err := rows.Scan(&r.ID, &r.Version, &r.LastUpdated, &r.Raw); err != nil {
			return nil, "", err
		}
		r.LastUpdated = r.LastUpdated.UTC()
		out = append(out, r)
	}
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = encodeCursor(0, last.LastUpdated, last.ID)
	}
	return out, next, rows.Err()
}

// ProvenanceID is the id of the Provenance stored beside a Claim.
func ProvenanceID(claimID string) string { return "prov-" + claimID }

// storeProvenanceTx stores the Provenance of a Claim (who coded it, who
// completed it after review) as a FHIR resource, readable at
// /fhir/Provenance/prov-{claim id}.
func (s *Store) storeProvenanceTx(ctx context.Context, tx *sql.Tx, in mapping.ClaimInput, completer string) error {
	var coder string
	if err := tx.QueryRowContext(ctx, `SELECT coded_by FROM work_items WHERE id = $1`, in.ItemID).Scan(&coder); err != nil {
		return err
	}
	id := ProvenanceID(in.ClaimID)
	raw, err := mapping.ProvenanceJSON(id, "Claim/"+in.ClaimID, "Encounter/"+in.EncounterID, coder, completer, s.now())
	if err != nil {
		return err
	}
	sum := sha256.Sum256(raw)
	w := workitem.ResourceWrite{Type: "Provenance", ID: id, Method: "PUT", Raw: raw, Hash: sum[:],
		Serve: func(v int, at time.Time) ([]byte, error) { return fhir.SetMeta(raw, strconv.Itoa(v), at) }}
	_, err = s.writeTx(ctx, tx, &w)
	return err
}
