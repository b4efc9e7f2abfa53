package postgres

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// recordQATx writes the accuracy record of item id as its review completes:
// the coder's assignment as submitted (coder_codes, kept when the item went
// to review) against the auditor's final one. A re-review replaces the row.
func (s *Store) recordQATx(ctx context.Context, tx *sql.Tx, id, auditor string) error {
	var coder string
	var coderJSON, finalJSON []byte
	if err := tx.QueryRowContext(ctx, `SELECT coded_by, coder_codes, codes FROM work_items WHERE id = $1`, id).
		Scan(&coder, &coderJSON, &finalJSON); err != nil {
		return err
	}
	if coderJSON == nil {
		return nil // went to review before coder_codes existed
	}
	var coderAs, finalAs workitem.Assignment
	if err := json.Unmarshal(coderJSON, &coderAs); err != nil {
		return err
	}
	if err := json.Unmarshal(finalJSON, &finalAs); err != nil {
		return err
	}
	d := workitem.CompareAssignments(coderAs, finalAs)
	_, err := tx.ExecContext(ctx, `INSERT INTO qa_reviews (work_item_id, coder, auditor, reviewed_at, accurate,
			diagnoses_added, diagnoses_removed, poa_changed, resequenced, lines_added, lines_removed, lines_changed,
			procedures_added, procedures_removed, coder_codes, final_codes)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		id, coder, auditor, s.now(), d.Accurate(), d.DiagnosesAdded, d.DiagnosesRemoved, d.POAChanged, d.Resequenced,
		d.LinesAdded, d.LinesRemoved, d.LinesChanged, d.ProceduresAdded, d.ProceduresRemoved, jsonArg(coderJSON), jsonArg(finalJSON))
	return err
}

// QAReviewOf answers the latest accuracy record of a reviewed item (an item
// re-coded after a correction may be reviewed again; each review is kept).
// Errors: NotFound.
func (s *Store) QAReviewOf(ctx context.Context, itemID string) (r workitem.QAReview, err error) {
	defer workitem.Wrap(&err, "postgres.QAReviewOf(%s)", itemID)
	err = s.db.QueryRowContext(ctx, `SELECT work_item_id, coder, auditor, reviewed_at, accurate, diagnoses_added, diagnoses_removed,
			poa_changed, resequenced, lines_added, lines_removed, lines_changed, procedures_added, procedures_removed
		FROM qa_reviews WHERE work_item_id = $1 ORDER BY reviewed_at DESC, id DESC LIMIT 1`, itemID).
		Scan(&r.WorkItemID, &r.Coder, &r.Auditor, &r.ReviewedAt, &r.Accurate, &r.DiagnosesAdded, &r.DiagnosesRemoved,
			&r.POAChanged, &r.Resequenced, &r.LinesAdded, &r.LinesRemoved, &r.LinesChanged, &r.ProceduresAdded, &r.ProceduresRemoved)
	if errors.Is(err, sql.ErrNoRows) {
		return r, workitem.Errorf(workitem.NotFound, "no QA review of work item %s", itemID)
	}
	r.ReviewedAt = r.ReviewedAt.UTC()
	return r, err
}

// CommunicationSystem is the identifier system of the Communications
// physician queries are written as; the value is the query id.
const CommunicationSystem = "urn:codebridge:physician-query"

// writeQueryCommunicationTx writes (a new version of) the FHIR R4
// Communication of physician query qid on work item itemID: in-progress
// while open, completed with the answer as a second payload once answered.
// Its id is the query id. It is stored with the other resources (readable
// at /fhir/Communication/{id}) but indexed under no Encounter, so it never
// changes the chart.
func (s *Store) writeQueryCommunicationTx(ctx context.Context, tx *sql.Tx, itemID, qid string) error {
	var enc, pat, question, asker, answer string
	var indJSON, optJSON []byte
	var asked time.Time
	var answered sql.NullTime
	err := tx.QueryRowContext(ctx, `SELECT w.encounter_id, w.patient_id, q.question, q.indicators, q.options, q.asked_by, q.asked_at, q.answer, q.answered_at
		FROM work_item_queries q JOIN work_items w ON w.id = q.work_item_id WHERE q.id = $1 AND q.work_item_id = $2`, qid, itemID).
		Scan(&enc, &pat, &question, &indJSON, &optJSON, &asker, &asked, &answer, &answered)
	if err != nil {
		return err
	}
	var ind, opts []string
	_ = json.Unmarshal(indJSON, &ind)
	_ = json.Unmarshal(optJSON, &opts)
	attending, err := attendingOfTx(ctx, tx, enc)
	if err != nil {
		return err
	}
	type ref struct {
		Reference string `json:"reference"`
		Display   string `json:"display,omitempty"`
	}
	type coding struct {
		System  string `json:"system"`
		Code    string `json:"code"`
		Display string `json:"display,omitempty"`
	}
	type concept struct {
		Coding []coding `json:"coding"`
		Text   string   `json:"text,omitempty"`
	}
	type payload struct {
		ContentString string `json:"contentString"`
	}
	type communication struct {
		ResourceType string                `json:"resourceType"`
		ID           string                `json:"id"`
		Identifier   []workitem.Identifier `json:"identifier"`
		Status       string                `json:"status"`
		Category     []concept             `json:"category"`
		Subject      *ref                  `json:"subject,omitempty"`
		Encounter    *ref                  `json:"encounter,omitempty"`
		Sent         string                `json:"sent"`
		Received     string                `json:"received,omitempty"`
		Recipient    []ref                 `json:"recipient,omitempty"`
		Payload      []payload             `json:"payload"`
	}
	c := communication{
		ResourceType: "Communication", ID: qid,
		Identifier: []workitem.Identifier{{System: CommunicationSystem, Value: qid}},
		Status:     "in-progress",
		Category: []concept{{Coding: []coding{{System: "http://terminology.hl7.org/CodeSystem/communication-category",
			Code: "notification", Display: "Notification"}}, Text: "Physician query"}},
		Encounter: &ref{Reference: "Encounter/" + enc},
		Sent:      asked.UTC().Format(time.RFC3339),
		Payload:   []payload{{ContentString: queryText(question, ind, opts, asker)}},
	}
	if pat != "" {
		c.Subject = &ref{Reference: "Patient/" + pat}
	}
	if attending != "" {
		c.Recipient = []ref{{Reference: attending}}
	}
	if answered.Valid {
		c.Status = "completed"
		c.Received = answered.Time.UTC().Format(time.RFC3339)
		c.Payload = append(c.Payload, payload{ContentString: "Answer: " + answer})
	}
	raw, err := json.Marshal(c)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(raw)
	w := workitem.ResourceWrite{Type: "Communication", ID: qid, Method: "PUT", Raw: raw, Hash: sum[:],
		Identifiers: []workitem.Identifier{{System: CommunicationSystem, Value: qid}},
		Serve: func(version int, at time.Time) ([]byte, error) {
			return fhir.SetMeta(raw, strconv.Itoa(version), at)
		}}
	if _, err := s.writeTx(ctx, tx, &w); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE work_item_queries SET communication_id = $2 WHERE id = $1`, qid, qid)
	return err
}

func queryText(question string, indicators, options []string, asker string) string {
	var b strings.Builder
	b.WriteString("Query: " + question)
	if len(indicators) > 0 {
		b.WriteString("\nClinical indicators:")
		for _, i := range indicators {
			b.WriteString("\n- " + i)
		}
	}
	if len(options) > 0 {
		b.WriteString("\nOptions:")
		for _, o := range options {
			b.WriteString("\n- " + o)
		}
	}
	if asker != "" {
		b.WriteString("\nAsked by coder " + asker)
	}
	return b.String()
}

// attendingOfTx answers the attending practitioner of Encounter enc: the
// first participant typed ATND, else the first typed PPRF, as
// "Practitioner/{id}"; "" when there is none.
func attendingOfTx(ctx context.Context, tx *sql.Tx, enc string) (string, error) {
	var raw []byte
	err := tx.QueryRowContext(ctx, `SELECT v.raw FROM resources r JOIN resource_versions v ON v.type = r.type AND v.id = r.id AND v.version = r.version
		WHERE r.type = 'Encounter' AND r.id = $1 AND NOT r.deleted`, enc).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	var e struct {
		Participant []struct {
			Type []struct {
				Coding []struct {
					Code string `json:"code"`
				} `json:"coding"`
			} `json:"type"`
			Individual struct {
				Reference string `json:"reference"`
			} `json:"individual"`
		} `json:"participant"`
	}
	if err := json.Unmarshal(raw, &e); err != nil {
		return "", nil
	}
	for _, want := range []string{"ATND", "PPRF"} {
		for _, p := range e.Participant {
			if !strings.HasPrefix(p.Individual.Reference, "Practitioner/") {
				continue
			}
			for _, t := range p.Type {
				for _, c := range t.Coding {
					if c.Code == want {
						return p.Individual.Reference, nil
					}
				}
			}
		}
	}
	return "", nil
}
