package postgres

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// UISession is one coder-workbench session as stored. The session id
// itself lives only in the user's cookie; the table keys on its hash.
type UISession struct {
	Principal string
	Role      string
	CSRF      string // the per-session anti-forgery token
	LastChart string // work item id of the chart last opened
	Created   time.Time
	LastSeen  time.Time
	Expires   time.Time // absolute end, enforced by the workbench; zero for none
	TokenHash []byte    // sha256 of the static token signed in with; nil for JWT/OIDC
}

// CreateUISession stores a new session under idHash.
func (s *Store) CreateUISession(ctx context.Context, idHash []byte, u UISession) (err error) {
	defer workitem.Wrap(&err, "postgres.CreateUISession")
	_, err = s.db.ExecContext(ctx, `INSERT INTO ui_sessions (id_hash, principal, role, csrf_token, created_at, last_seen, last_chart,
		expires_at, token_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, idHash, u.Principal, u.Role, u.CSRF, u.Created,
		u.LastSeen, u.LastChart, sql.NullTime{Time: u.Expires, Valid: !u.Expires.IsZero()}, u.TokenHash)
	return err
}

const uiSessionColumns = `principal, role, csrf_token, last_chart, created_at, last_seen, expires_at, token_hash`

func scanUISession(row *sql.Row) (UISession, error) {
	var u UISession
	var expires sql.NullTime
	err := row.Scan(&u.Principal, &u.Role, &u.CSRF, &u.LastChart, &u.Created, &u.LastSeen, &expires, &u.TokenHash)
	u.Created, u.LastSeen = u.Created.UTC(), u.LastSeen.UTC()
	if expires.Valid {
		u.Expires = expires.Time.UTC()
	}
	return u, err
}

// TouchUISession answers the live session of idHash and records activity
// at now. A session last seen more than idle before now is ended there and
// then (automatic log-off) and answered as an Unauthorized error; an
// unknown or ended session is NotFound.
func (s *Store) TouchUISession(ctx context.Context, idHash []byte, now time.Time, idle time.Duration) (u UISession, err error) {
	defer workitem.Wrap(&err, "postgres.TouchUISession")
	u, err = scanUISession(s.db.QueryRowContext(ctx, `UPDATE ui_sessions SET last_seen = $2
		WHERE id_hash = $1 AND ended_at IS NULL AND last_seen > $3 RETURNING `+uiSessionColumns, idHash, now, now.Add(-idle)))
	if err == nil {
		return u, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return u, err
	}
	res, err := s.db.ExecContext(ctx, `UPDATE ui_sessions SET ended_at = $2, end_reason = 'idle' WHERE id_hash = $1 AND ended_at IS NULL`, idHash, now)
	if err != nil {
		return u, err
	}
	if n, _ := res.RowsAffected(); n > 0 {
		return UISession{}, workitem.Errorf(workitem.Unauthorized, "workbench session expired after inactivity")
	}
	return UISession{}, workitem.Errorf(workitem.NotFound, "no live workbench session")
}

// UISessionIdle answers how long the live session of idHash has been idle
// at now, without recording activity. Errors: NotFound (also once past
// its absolute end).
func (s *Store) UISessionIdle(ctx context.Context, idHash []byte, now time.Time) (d time.Duration, err error) {
	defer workitem.Wrap(&err, "postgres.UISessionIdle")
	var seen time.Time
	err = s.db.QueryRowContext(ctx, `SELECT last_seen FROM ui_sessions WHERE id_hash = $1 AND ended_at IS NULL
		AND (expires_at IS NULL OR expires_at > $2)`, idHash, now).Scan(&seen)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, workitem.Errorf(workitem.NotFound, "no live workbench session")
	}
	return now.Sub(seen), err
}

// SetUILastChart records the chart a session opened last.
func (s *Store) SetUILastChart(ctx context.Context, idHash []byte, itemID string) (err error) {
	defer workitem.Wrap(&err, "postgres.SetUILastChart(%s)", itemID)
	_, err = s.db.ExecContext(ctx, `UPDATE ui_sessions SET last_chart = $2 WHERE id_hash = $1 AND last_chart <> $2`, idHash, itemID)
	return err
}

// EndUISession ends the session of idHash (sign-out); ending an ended or
// unknown session does nothing.
func (s *Store) EndUISession(ctx context.Context, idHash []byte, now time.Time, reason string) (err error) {
	defer workitem.Wrap(&err, "postgres.EndUISession")
	_, err = s.db.ExecContext(ctx, `UPDATE ui_sessions SET ended_at = $2, end_reason = $3 WHERE id_hash = $1 AND ended_at IS NULL`, idHash, now, reason)
	return err
}

// UILastChart answers the chart principal's sessions opened last ("" when
// none), so signing in again returns to it.
func (s *Store) UILastChart(ctx context.Context, principal string) (id string, err error) {
	defer workitem.Wrap(&err, "postgres.UILastChart")
	err = s.db.QueryRowContext(ctx, `SELECT last_chart FROM ui_sessions WHERE principal = $1 AND last_chart <> ''
		ORDER BY last_seen DESC LIMIT 1`, principal).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return id, err
}

// PruneUISessions deletes sessions ended before the given time and drafts
// not saved since then; it answers how many rows went.
func (s *Store) PruneUISessions(ctx context.Context, before time.Time) (n int64, err error) {
	defer workitem.Wrap(&err, "postgres.PruneUISessions")
	for _, q := range []string{`DELETE FROM ui_sessions WHERE ended_at < $1`, `DELETE FROM ui_drafts WHERE saved_at < $1`} {
		res, err := s.db.ExecContext(ctx, q, before)
		if err != nil {
			return n, err
		}
		k, _ := res.RowsAffected()
		n += k
	}
	return n, nil
}

// SaveUIDraft stores (replaces) principal's draft of the code pane of a
// work item.
func (s *Store) SaveUIDraft(ctx context.Context, principal, itemID string, draft []byte, now time.Time) (err error) {
	defer workitem.Wrap(&err, "postgres.SaveUIDraft(%s)", itemID)
	_, err = s.db.ExecContext(ctx, `INSERT INTO ui_drafts (principal, work_item_id, draft, saved_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (principal, work_item_id) DO UPDATE SET draft = EXCLUDED.draft, saved_at = EXCLUDED.saved_at`, principal, itemID, jsonArg(draft), now)
	return err
}

// UIDraft answers principal's draft of a work item, nil when there is none.
func (s *Store) UIDraft(ctx context.Context, principal, itemID string) (draft []byte, err error) {
	defer workitem.Wrap(&err, "postgres.UIDraft(%s)", itemID)
	err = s.db.QueryRowContext(ctx, `SELECT draft FROM ui_drafts WHERE principal = $1 AND work_item_id = $2`, principal, itemID).Scan(&draft)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return draft, err
}

// DeleteUIDraft drops principal's draft of a work item.
func (s *Store) DeleteUIDraft(ctx context.Context, principal, itemID string) (err error) {
	defer workitem.Wrap(&err, "postgres.DeleteUIDraft(%s)", itemID)
	_, err = s.db.ExecContext(ctx, `DELETE FROM ui_drafts WHERE principal = $1 AND work_item_id = $2`, principal, itemID)
	return err
}

// UIPrefs answers principal's workbench preferences (JSON), nil when none
// are saved.
func (s *Store) UIPrefs(ctx context.Context, principal string) (prefs []byte, err error) {
	defer workitem.Wrap(&err, "postgres.UIPrefs")
	err = s.db.QueryRowContext(ctx, `SELECT prefs FROM ui_prefs WHERE principal = $1`, principal).Scan(&prefs)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return prefs, err
}

// SaveUIPrefs stores principal's workbench preferences (JSON).
func (s *Store) SaveUIPrefs(ctx context.Context, principal string, prefs []byte, now time.Time) (err error) {
	defer workitem.Wrap(&err, "postgres.SaveUIPrefs")
	_, err = s.db.ExecContext(ctx, `INSERT INTO ui_prefs (principal, prefs, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (principal) DO UPDATE SET prefs = EXCLUDED.prefs, updated_at = EXCLUDED.updated_at`, principal, jsonArg(prefs), now)
	return err
}

// CoderCodes answers the assignment the coder submitted for an item that
// went to QA review, and who coded it; ok is false when none was kept.
// Errors: NotFound.
func (s *Store) CoderCodes(ctx context.Context, itemID string) (as workitem.Assignment, coder string, ok bool, err error) {
	defer workitem.Wrap(&err, "postgres.CoderCodes(%s)", itemID)
	var raw []byte
	err = s.db.QueryRowContext(ctx, `SELECT coded_by, coder_codes FROM work_items WHERE id = $1`, itemID).Scan(&coder, &raw)
	if errors.Is(err, sql.ErrNoRows) {
		return as, "", false, workitem.Errorf(workitem.NotFound, "work item %s not found", itemID)
	}
	if err != nil || raw == nil {
		return as, coder, false, err
	}
	return as, coder, true, json.Unmarshal(raw, &as)
}

// Worklist sort orders.
const (
	SortPriority      = "priority"       // highest priority first, then oldest item
	SortDischarge     = "discharge"      // longest since discharge first
	SortDischargeDesc = "discharge_desc" // most recent discharge first
)

// WorklistFilter selects and orders the workbench worklist.
type WorklistFilter struct {
	Status     []workitem.Status
	Class      string
	Assignee   string // exact principal
	Unassigned bool
	From, To   time.Time // service date range (inclusive days); zero = open
	Sort       string    // SortPriority (default), SortDischarge, SortDischargeDesc
	Limit      int       // 1..200, default 50
	Cursor     string    // from a previous page of the same sort
	AutoCode   string    // the straight-through coder's decision: "skipped", "coded" or "" for any
}

// UnnamedPayer is the worklist's Payer of an active Coverage whose payer
// has no name on the chart ("" means no active Coverage: self-pay).
const UnnamedPayer = "(payer not named)"

// WorklistRow is one worklist line: the item, plus what the chart says of
// the patient's name and first active payer, and the discharge (the
// service end, else its start, else the item's creation).
type WorklistRow struct {
	workitem.Item
	PatientName string
	Payer       string
	Discharge   time.Time
}

const dischargeExpr = `coalesce(service_end, service_start, created_at)`

// Worklist answers one page of the worklist with keyset pagination; the
// cursor is empty on the last page. Errors: Invalid (cursor, sort).
func (s *Store) Worklist(ctx context.Context, f WorklistFilter) (rows []WorklistRow, next string, err error) {
	defer workitem.Wrap(&err, "postgres.Worklist")
	var c conds
	c.filter(f)
	if err := c.cursor(f); err != nil {
		return nil, "", err
	}
	limit := f.Limit
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	args := append(c.args, limit+1)
	rs, err := s.db.QueryContext(ctx, worklistSQL(f.Sort, c.where, len(args)), args...)
	if err != nil {
		return nil, "", err
	}
	defer rs.Close()
	for rs.Next() {
		var r WorklistRow
		r.Item, err = scanItem(scanExtra{rs, []any{&r.PatientName, &r.Payer, &r.Discharge}})
		if err != nil {
			return nil, "", err
		}
		r.Discharge = r.Discharge.UTC()
		rows = append(rows, r)
	}
	if err := rs.Err(); err != nil {
		return nil, "", err
	}
	if len(rows) > limit {
		rows = rows[:limit]
		next = worklistCursor(f.Sort, rows[limit-1])
	}
	return rows, next, nil
}

// worklistSQL selects the worklist page: the item, the patient's name and
// first active payer from the chart, and the discharge. The page size is
// parameter $limitArg, not text, so every page size shares one prepared
// statement.
func worklistSQL(sort string, where []string, limitArg int) string {
	order := `priority DESC, created_at, id`
	switch sort {
	case SortDischarge:
		order = dischargeExpr + `, id`
	case SortDischargeDesc:
		order = dischargeExpr + ` DESC, id DESC`
	}
	return `SELECT ` + itemColumns + `, coalesce(chart->'chart'->'patientSummary'->>'name', ''),
		coalesce((SELECT coalesce(nullif(c->>'payor', ''), $$` + UnnamedPayer + `$$)
			FROM jsonb_array_elements(CASE WHEN jsonb_typeof(chart->'chart'->'coverage') = 'array'
				THEN chart->'chart'->'coverage' ELSE '[]'::jsonb END) c
			WHERE coalesce(c->>'status', 'active') = 'active'
			ORDER BY coalesce((c->>'order')::int, 1000) LIMIT 1), ''),
		` + dischargeExpr + ` FROM work_items WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY ` + order + fmt.Sprintf(` LIMIT $%d`, limitArg)
}

// conds collects WHERE conditions and their arguments.
type conds struct {
	where []string
	args  []any
}

// add appends cond, numbering its ? placeholders after the arguments so far.
func (c *conds) add(cond string, vs ...any) {
	for _, v := range vs {
		c.args = append(c.args, v)
		cond = strings.Replace(cond, "?", "$"+strconv.Itoa(len(c.args)), 1)
	}
	c.where = append(c.where, cond)
}

func (c *conds) filter(f WorklistFilter) {
	c.add("true")
	if len(f.Status) > 0 {
		ss := make([]string, len(f.Status))
		for i, st := range f.Status {
			ss[i] = string(st)
		}
		c.add("status = ANY(?)", pqArray(ss))
	}
	if f.Class != "" {
		c.add("class = ?", f.Class)
	}
	if f.Assignee != "" {
		c.add("assignee = ?", f.Assignee)
	}
	if f.Unassigned {
		c.add("assignee = ''")
	}
	if !f.From.IsZero() {
		c.add("service_start >= ?", f.From)
	}
	if !f.To.IsZero() {
		c.add("service_start < ?", f.To.AddDate(0, 0, 1))
	}
	if f.AutoCode != "" {
		c.add("(autocode->>'decision') = ?", f.AutoCode)
	}
}

// cursor adds the keyset condition of f's cursor, which must come from a
// page of the same sort.
func (c *conds) cursor(f WorklistFilter) error {
	if f.Cursor == "" {
		return nil
	}
	kind, parts, err := decodeWorklistCursor(f.Cursor)
	if err != nil {
		return err
	}
	switch {
	case kind == "p" && (f.Sort == "" || f.Sort == SortPriority) && len(parts) == 3:
		p, err1 := strconv.Atoi(parts[0])
		t, err2 := time.Parse(time.RFC3339Nano, parts[1])
		if err1 != nil || err2 != nil {
			return badWorklistCursor()
		}
		c.add("(priority < ? OR (priority = ? AND (created_at, id) > (?, ?)))", p, p, t, parts[2])
	case kind == "d" && (f.Sort == SortDischarge || f.Sort == SortDischargeDesc) && len(parts) == 2:
		t, err := time.Parse(time.RFC3339Nano, parts[0])
		if err != nil {
			return badWorklistCursor()
		}
		op := ">"
		if f.Sort == SortDischargeDesc {
			op = "<"
		}
		c.add("("+dischargeExpr+", id) "+op+" (?, ?)", t, parts[1])
	default:
		return badWorklistCursor()
	}
	return nil
}

func worklistCursor(sort string, last WorklistRow) string {
	raw := "p|" + strconv.Itoa(last.Priority) + "|" + last.CreatedAt.UTC().Format(time.RFC3339Nano) + "|" + last.ID
	if sort == SortDischarge || sort == SortDischargeDesc {
		raw = "d|" + last.Discharge.UTC().Format(time.RFC3339Nano) + "|" + last.ID
	}
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func decodeWorklistCursor(c string) (string, []string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return "", nil, badWorklistCursor()
	}
	kind, rest, ok := strings.Cut(string(b), "|")
	if !ok {
		return "", nil, badWorklistCursor()
	}
	n := 3
	if kind == "d" {
		n = 2
	}
	return kind, strings.SplitN(rest, "|", n), nil
}

func badWorklistCursor() error {
	return workitem.Errorf(workitem.Invalid, "cursor is not one this server issued for this sort")
}

// scanExtra scans an item row followed by extra columns.
type scanExtra struct {
	rows  *sql.Rows
	extra []any
}

func (s scanExtra) Scan(dest ...any) error { return s.rows.Scan(append(dest, s.extra...)...) }
