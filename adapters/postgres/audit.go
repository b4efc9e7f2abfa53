package postgres

import (
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lib/pq"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// AuditRecord is one row of the audit log: a read of patient data. It holds
// references and parameter names, never resource content.
type AuditRecord struct {
	ID        int64
	At        time.Time
	Principal string
	Role      string
	Method    string
	Route     string
	Target    string // Type/id read, or the Type searched
	Version   string
	WorkItem  string
	Encounter string // Encounter/id; resolved on insert when empty
	Patient   string // Patient/id; resolved on insert when empty
	Params    []string
	Status    int
	RequestID string
}

// AuditFilter selects audit rows; zero fields do not filter.
type AuditFilter struct {
	Principal string
	Patient   string    // Patient/id
	Target    string    // Type/id
	From      time.Time // inclusive
	To        time.Time // exclusive
	Limit     int       // 1..1000; 0 means 100
	Cursor    string
}

// AuditStore appends to and reads the audit log.
type AuditStore struct{ db *DB }

// NewAuditStore returns the audit log on db.
func NewAuditStore(db *DB) *AuditStore { return &AuditStore{db: db} }

// appendSQL inserts a batch in one statement from parallel arrays. The
// encounter and patient a read concerns, when the request did not name
// them, come from the work item, the Claim (for a Claim or its Provenance),
// the resource read, or the Encounter searched by.
const appendSQL = `INSERT INTO audit_log (at, principal, role, action, method, route, target, version, work_item, encounter, patient, params, status, request_id)
SELECT v.at, v.principal, v.role, 'read', v.method, v.route, v.target, v.version, v.work_item,
	COALESCE(NULLIF(v.encounter, ''), 'Encounter/' || w.encounter_id, 'Encounter/' || NULLIF(c.encounter_id, ''),
		'Encounter/' || r.encounter_id, ''),
	COALESCE(NULLIF(v.patient, ''), 'Patient/' || NULLIF(w.patient_id, ''), 'Patient/' || NULLIF(c.patient_id, ''),
		'Patient/' || r.patient_id, 'Patient/' || e.patient_id, ''),
	string_to_array(v.params, ','), v.status, v.request_id
FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
		$8::text[], $9::text[], $10::text[], $11::text[], $12::int[], $13::text[])
	WITH ORDINALITY AS v(at, principal, role, method, route, target, version, work_item, encounter, patient, params, status, request_id, ord)
LEFT JOIN work_items w ON w.id = NULLIF(v.work_item, '')
LEFT JOIN claims c ON c.id = CASE WHEN v.target LIKE 'Claim/%' THEN substr(v.target, 7)
	WHEN v.target LIKE 'Provenance/prov-%' THEN substr(v.target, 17) END
LEFT JOIN resources r ON r.type = split_part(v.target, '/', 1) AND r.id = NULLIF(split_part(v.target, '/', 2), '')
LEFT JOIN resources e ON e.type = 'Encounter' AND e.id = substr(NULLIF(v.encounter, ''), 11)
ORDER BY v.ord`

// Append inserts recs in one statement, in order.
func (s *AuditStore) Append(ctx context.Context, recs []AuditRecord) (err error) {
	defer workitem.Wrap(&err, "postgres.AuditStore.Append(%d)", len(recs))
	if len(recs) == 0 {
		return nil
	}
	n := len(recs)
	at, principal, role, method, route := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	target, version, item, enc, pat := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	params, reqID, status := make([]string, n), make([]string, n), make([]int64, n)
	for i, r := range recs {
		at[i] = r.At.UTC().Format(time.RFC3339Nano)
		principal[i], role[i], method[i], route[i] = clean(r.Principal), clean(r.Role), clean(r.Method), clean(r.Route)
		target[i], version[i], item[i] = clean(r.Target), clean(r.Version), clean(r.WorkItem)
		enc[i], pat[i], reqID[i], status[i] = clean(r.Encounter), clean(r.Patient), clean(r.RequestID), int64(r.Status)
		names := make([]string, 0, len(r.Params))
		for _, p := range r.Params {
			if p = strings.ReplaceAll(clean(p), ",", ""); p != "" {
				names = append(names, p)
			}
		}
		params[i] = strings.Join(names, ",")
	}
	_, err = s.db.ExecContext(ctx, appendSQL, pq.Array(at), pq.Array(principal), pq.Array(role), pq.Array(method),
		pq.Array(route), pq.Array(target), pq.Array(version), pq.Array(item), pq.Array(enc), pq.Array(pat),
		pq.Array(params), pq.Array(status), pq.Array(reqID))
	return err
}

// clean makes s storable as PostgreSQL text: valid UTF-8 without NUL, so
// one odd value can never make a whole batch fail forever.
func clean(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
}

// Query answers a page of rows, newest first (by at, then id), and the
// cursor of the next page ("" on the last). Errors: Invalid (cursor).
func (s *AuditStore) Query(ctx context.Context, f AuditFilter) (recs []AuditRecord, next string, err error) {
	defer workitem.Wrap(&err, "postgres.AuditStore.Query")
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	where, args, err := auditWhere(f)
	if err != nil {
		return nil, "", err
	}
	args = append(args, f.Limit+1)
	limit := "$" + strconv.Itoa(len(args))
	rows, err := s.db.QueryContext(ctx, `SELECT id, at, principal, role, method, route, target, version, work_item,
		encounter, patient, params, status, request_id FROM audit_log WHERE `+where+
		` ORDER BY at DESC, id DESC LIMIT `+limit, args...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanAudit(rows)
		if err != nil {
			return nil, "", err
		}
		recs = append(recs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	if len(recs) > f.Limit {
		recs = recs[:f.Limit]
		last := recs[f.Limit-1]
		next = encodeAuditCursor(last.At, last.ID)
	}
	return recs, next, nil
}

// auditWhere builds the filter's conditions and their arguments.
func auditWhere(f AuditFilter) (string, []any, error) {
	where := []string{"true"}
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.Principal != "" {
		where = append(where, "principal = "+arg(f.Principal))
	}
	if f.Patient != "" {
		where = append(where, "patient <> '' AND patient = "+arg(f.Patient)) // lets the partial index serve
	}
	if f.Target != "" {
		where = append(where, "target <> '' AND target = "+arg(f.Target))
	}
	if !f.From.IsZero() {
		where = append(where, "at >= "+arg(f.From))
	}
	if !f.To.IsZero() {
		where = append(where, "at < "+arg(f.To))
	}
	if f.Cursor != "" {
		at, id, err := decodeAuditCursor(f.Cursor)
		if err != nil {
			return "", nil, err
		}
		where = append(where, "(at, id) < ("+arg(at)+"::timestamptz, "+arg(id)+"::bigint)")
	}
	return strings.Join(where, " AND "), args, nil
}

func scanAudit(rows *sql.Rows) (AuditRecord, error) {
	var r AuditRecord
	var params pq.StringArray
	err := rows.Scan(&r.ID, &r.At, &r.Principal, &r.Role, &r.Method, &r.Route, &r.Target, &r.Version, &r.WorkItem,
		&r.Encounter, &r.Patient, &params, &r.Status, &r.RequestID)
	r.Params = params
	return r, err
}

// encodeAuditCursor makes the opaque cursor of the row after which the
// next page starts: its time (to the microsecond PostgreSQL keeps) and id.
func encodeAuditCursor(at time.Time, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(at.UnixMicro(), 10) + "." + strconv.FormatInt(id, 10)))
}

func decodeAuditCursor(c string) (time.Time, int64, error) {
	bad := workitem.Errorf(workitem.Invalid, "cursor is not one this listing issued")
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, 0, bad
	}
	us, id, ok := strings.Cut(string(b), ".")
	u, err1 := strconv.ParseInt(us, 10, 64)
	n, err2 := strconv.ParseInt(id, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return time.Time{}, 0, bad
	}
	return time.UnixMicro(u), n, nil
}

// AuditWriterOptions tune the AuditWriter.
type AuditWriterOptions struct {
	Buffer   int           // records held in memory; 0 means 8192
	MaxBatch int           // rows per INSERT; 0 means 500
	FullWait time.Duration // how long Record waits for room in a full buffer before it drops; 0 means 5s
	Logger   *slog.Logger
}

// AuditWriter appends audit records in the background, so a read never
// waits on the database: Record queues, one goroutine batch-inserts what
// has queued (one multi-row INSERT per batch) and retries a failed batch
// with backoff. When the buffer is full Record blocks up to FullWait and
// only then drops the record, counting it in Stats. Close writes out what
// is queued.
type AuditWriter struct {
	store *AuditStore
	o     AuditWriterOptions
	ch    chan auditItem
	quit  chan struct{}
	done  chan struct{}
	ctx   context.Context // of background inserts; cancelled by Close
	stop  context.CancelFunc

	mu       sync.RWMutex // held for reading while queuing, for writing by Close
	closed   bool
	closeCtx context.Context
	closeErr error

	written, dropped, failures atomic.Uint64
}

// auditItem is a record to write or, with flushed set, a Flush marker.
type auditItem struct {
	rec     AuditRecord
	flushed chan struct{}
}

// AuditStats are the writer's counters.
type AuditStats struct {
	Queued   int    // records waiting
	Written  uint64 // records inserted
	Dropped  uint64 // records lost: buffer full past FullWait, or unwritable at Close
	Failures uint64 // failed INSERT attempts (each retried)
}

// NewAuditWriter starts a writer appending to store.
func NewAuditWriter(store *AuditStore, o AuditWriterOptions) *AuditWriter {
	if o.Buffer <= 0 {
		o.Buffer = 8192
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 500
	}
	if o.FullWait <= 0 {
		o.FullWait = 5 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	w := &AuditWriter{store: store, o: o, ch: make(chan auditItem, o.Buffer), quit: make(chan struct{}), done: make(chan struct{})}
	w.ctx, w.stop = context.WithCancel(context.Background())
	go w.run()
	return w
}

// Record queues r. It returns at once unless the buffer is full; then it
// waits up to FullWait for room and drops r (counted) if none comes. After
// Close it drops r.
func (w *AuditWriter) Record(r AuditRecord) {
	if !w.enqueue(context.Background(), auditItem{rec: r}, w.o.FullWait) {
		if n := w.dropped.Add(1); n == 1 || n%1000 == 0 {
			w.o.Logger.Error("audit records dropped", "dropped_total", n)
		}
	}
}

func (w *AuditWriter) enqueue(ctx context.Context, it auditItem, wait time.Duration) bool {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		return false
	}
	select {
	case w.ch <- it:
		return true
	default:
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case w.ch <- it:
		return true
	case <-t.C:
		return false
	case <-ctx.Done():
		return false
	}
}

// Flush waits until every record queued before it is written.
func (w *AuditWriter) Flush(ctx context.Context) error {
	done := make(chan struct{})
	if !w.enqueue(ctx, auditItem{flushed: done}, time.Hour) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return nil // closed: Close wrote out what was queued
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stats reports the writer's counters.
func (w *AuditWriter) Stats() AuditStats {
	return AuditStats{Queued: len(w.ch), Written: w.written.Load(), Dropped: w.dropped.Load(), Failures: w.failures.Load()}
}

// Close stops taking records and writes out the queued ones, trying until
// ctx ends; records it cannot write are counted as dropped and reported.
func (w *AuditWriter) Close(ctx context.Context) error {
	w.mu.Lock()
	if !w.closed {
		w.closed, w.closeCtx = true, ctx
		close(w.quit)
		// An insert in flight may finish (cancelling it could leave its
		// rows written yet retried), unless ctx ends first.
		defer context.AfterFunc(ctx, w.stop)()
	}
	w.mu.Unlock()
	<-w.done // bounded by ctx: the final inserts run under it
	w.stop()
	return w.closeErr
}

func (w *AuditWriter) run() {
	defer close(w.done)
	batch := make([]auditItem, 0, w.o.MaxBatch)
	for {
		select {
		case it := <-w.ch:
			batch = w.fill(append(batch[:0], it))
			if !w.write(batch) {
				w.final(batch)
				return
			}
		case <-w.quit:
			w.final(batch[:0])
			return
		}
	}
}

// fill adds what is already queued to batch, up to MaxBatch.
func (w *AuditWriter) fill(batch []auditItem) []auditItem {
	for len(batch) < w.o.MaxBatch {
		select {
		case it := <-w.ch:
			batch = append(batch, it)
		default:
			return batch
		}
	}
	return batch
}

// write inserts batch, retrying with backoff; false when Close came first.
func (w *AuditWriter) write(batch []auditItem) bool {
	backoff := 100 * time.Millisecond
	for {
		ctx, cancel := context.WithTimeout(w.ctx, 30*time.Second)
		err := w.insert(ctx, batch)
		cancel()
		if err == nil {
			return true
		}
		w.o.Logger.Warn("audit insert failed; retrying", "records", len(batch), "error", err.Error())
		select {
		case <-time.After(backoff):
			backoff = min(2*backoff, 5*time.Second)
		case <-w.quit:
			return false
		}
	}
}

// insert appends the batch's records and releases its Flush markers.
func (w *AuditWriter) insert(ctx context.Context, batch []auditItem) error {
	recs := make([]AuditRecord, 0, len(batch))
	for _, it := range batch {
		if it.flushed == nil {
			recs = append(recs, it.rec)
		}
	}
	if err := w.store.Append(ctx, recs); err != nil {
		w.failures.Add(1)
		return err
	}
	w.written.Add(uint64(len(recs)))
	for _, it := range batch {
		if it.flushed != nil {
			close(it.flushed)
		}
	}
	return nil
}

// final writes out pending and everything still queued under Close's
// context. Closed, the writer queues nothing more, so the queue only
// shrinks.
func (w *AuditWriter) final(pending []auditItem) {
	pending = append(pending, w.drain()...)
	for len(pending) > 0 {
		n := min(len(pending), w.o.MaxBatch)
		if err := w.insertUntil(pending[:n]); err != nil {
			lost := 0
			for _, it := range pending {
				if it.flushed == nil {
					lost++
				} else {
					close(it.flushed)
				}
			}
			w.dropped.Add(uint64(lost))
			w.closeErr = fmt.Errorf("postgres.AuditWriter.Close: %d audit records not written: %w", lost, err)
			return
		}
		pending = pending[n:]
	}
}

func (w *AuditWriter) drain() []auditItem {
	var out []auditItem
	for {
		select {
		case it := <-w.ch:
			out = append(out, it)
		default:
			return out
		}
	}
}

// insertUntil retries insert with backoff until it succeeds or Close's
// context ends.
func (w *AuditWriter) insertUntil(batch []auditItem) error {
	backoff := 50 * time.Millisecond
	for {
		err := w.insert(w.closeCtx, batch)
		if err == nil {
			return nil
		}
		select {
		case <-time.After(backoff):
			backoff = min(2*backoff, time.Second)
		case <-w.closeCtx.Done():
			return err
		}
	}
}
