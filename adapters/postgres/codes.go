package postgres

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/codebridge/codebridge/mapping/codes"
)

// CodeStore keeps code sets and claim-edit tables in PostgreSQL: it loads
// releases in their official formats (LoadRelease, LoadBundled), lists
// them, searches codes and implements codes.Lookup for the edit engine.
//
// It caches the list of releases in process for releaseTTL; a load through
// the same CodeStore refreshes it at once, a load by another process is
// seen within releaseTTL.
type CodeStore struct {
	db *DB

	mu       sync.Mutex
	rels     map[codes.System][]releaseRow // newest window first
	cachedAt time.Time
	sig      string // releaseSignature of rels
	gen      uint64 // bumped whenever sig changes

	cache lookupCache
}

// releaseTTL bounds how long a cached release list is trusted.
const releaseTTL = 2 * time.Second

var _ codes.Lookup = (*CodeStore)(nil)

// NewCodeStore returns a CodeStore on db.
func NewCodeStore(db *DB) *CodeStore { return &CodeStore{db: db} }

// ReleaseInfo describes one loaded release.
type ReleaseInfo struct {
	codes.Release
	LoadedAt time.Time
	// Rows is the number of records stored for the release.
	Rows int
	// Billable is the number of billable codes among them: ICD-10 codes
	// valid for HIPAA transactions (not headers), every HCPCS and CPT
	// code; 0 for the MUE, PTP and POA-exempt tables.
	Billable int
	// Source is the file name it was loaded from, when known.
	Source string
	// SHA256 is the hex digest of the file as loaded.
	SHA256 string
}

// LoadResult reports what LoadRelease did.
type LoadResult struct {
	// Rows is the number of records stored (the records of the release
	// already stored when Unchanged).
	Rows int
	// Unchanged is true when a release of the same system and version was
	// already stored from identical content: nothing was written.
	Unchanged bool
}

// LoadRelease reads one release in its official format from r (see
// codes.Catalog.Load for the formats per system) and stores it with COPY in
// one transaction.
//
// Loading is idempotent: when a release with the same system, version and
// file digest is already stored, nothing changes and the result says
// Unchanged. A release with the same system and version but other content
// is replaced atomically. On any error nothing changes: a malformed or
// truncated file, a file without any record of the system (wrapping
// codes.ErrNoRecords), a file whose codes mostly lack the shape of the
// system's codes (codes.ErrWrongShape: the file of another system), or a
// release whose dates of service overlap a stored release of the same
// system under another version label (ErrReleaseOverlap). progress, if not
// nil, is called with the running record count. HCPCS Level II modifiers
// are stored as hcpcsmod entries of the hcpcs release. When r has a Name
// method (an *os.File) its base name is recorded as the source.
func (s *CodeStore) LoadRelease(ctx context.Context, rel codes.Release, r io.Reader, progress func(n int)) (res LoadResult, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("postgres.LoadRelease(%s %s): %w", rel.System, rel.Version, err)
		}
	}()
	if _, err := codes.ParseSystem(string(rel.System)); err != nil || rel.System == codes.HCPCSModifier {
		return LoadResult{}, fmt.Errorf("cannot load system %q", rel.System)
	}
	src, sum, cleanup, err := digest(r)
	if err != nil {
		return LoadResult{}, err
	}
	defer cleanup()
	err = s.db.Transact(ctx, nil, func(tx *sql.Tx) error {
		res, err = s.loadTx(ctx, tx, rel, src, sourceName(r), sum, progress)
		return err
	})
	s.invalidate()
	if err != nil {
		return LoadResult{}, err
	}
	return res, nil
}

// ErrReleaseOverlap is wrapped by the error of a load whose release window
// overlaps a stored release of the same system with another version label.
var ErrReleaseOverlap = errors.New("overlaps a loaded release")

// loadTx replaces or keeps the stored release and copies the new content.
func (s *CodeStore) loadTx(ctx context.Context, tx *sql.Tx, rel codes.Release, src io.Reader, name string, sum []byte, progress func(int)) (LoadResult, error) {
	// One lock per system: the overlap check below must see every
	// concurrent load of the system.
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext($1))`, "codes:"+string(rel.System)); err != nil {
		return LoadResult{}, fmt.Errorf("lock: %w", err)
	}
	var other string
	var oFrom, oTo time.Time
	err := tx.QueryRowContext(ctx, `SELECT version, valid_from, valid_to FROM code_releases
		WHERE system = $1 AND version <> $2 AND valid_from <= $4 AND valid_to >= $3
		ORDER BY valid_from LIMIT 1`, rel.System, rel.Version, rel.From, rel.To).Scan(&other, &oFrom, &oTo)
	switch {
	case err == nil && !mceOverlaps(rel.System):
		return LoadResult{}, fmt.Errorf("%s %s (%s..%s) %w %s %s (%s..%s); load the file as version %q to replace that release",
			rel.System, rel.Version, rel.From.Format(time.DateOnly), rel.To.Format(time.DateOnly), ErrReleaseOverlap,
			rel.System, other, oFrom.Format(time.DateOnly), oTo.Format(time.DateOnly), other)
	case err != nil && err != sql.ErrNoRows:
		return LoadResult{}, fmt.Errorf("find overlapping release: %w", err)
	}
	var oldID int64
	var oldSum []byte
	var oldRows int
	err = tx.QueryRowContext(ctx, `SELECT id, sha256, row_count FROM code_releases WHERE system = $1 AND version = $2`,
		rel.System, rel.Version).Scan(&oldID, &oldSum, &oldRows)
	switch {
	case err == nil && bytes.Equal(oldSum, sum):
		unordered, err := missingOrder(ctx, tx, oldID, rel.System)
		if err != nil {
			return LoadResult{}, err
		}
		if !unordered {
			return LoadResult{Rows: oldRows, Unchanged: true}, nil
		}
		// Stored before tabular order was recorded (migration 00018):
		// replace it with the same content, order numbers included.
		if _, err := tx.ExecContext(ctx, `DELETE FROM code_releases WHERE id = $1`, oldID); err != nil {
			return LoadResult{}, fmt.Errorf("replace: %w", err)
		}
	case err == nil:
		if _, err := tx.ExecContext(ctx, `DELETE FROM code_releases WHERE id = $1`, oldID); err != nil {
			return LoadResult{}, fmt.Errorf("replace: %w", err)
		}
	case err != sql.ErrNoRows:
		return LoadResult{}, fmt.Errorf("find release: %w", err)
	}
	var id int64
	err = tx.QueryRowContext(ctx, `INSERT INTO code_releases (system, version, valid_from, valid_to, source_name, sha256)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, rel.System, rel.Version, rel.From, rel.To, name, sum).Scan(&id)
	if err != nil {
		return LoadResult{}, fmt.Errorf("insert release: %w", err)
	}
	var sc codes.ShapeCheck
	n, err := copyRelease(ctx, tx, id, rel.System, rel.Version, src, &sc, progress)
	if err == nil {
		err = sc.Err(rel.System, name)
	}
	if err != nil {
		return LoadResult{}, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE code_releases SET row_count = $2, billable_count = (
		SELECT count(*) FROM code_entries WHERE release_id = $1 AND system = $3 AND billable) WHERE id = $1`, id, n, rel.System); err != nil {
		return LoadResult{}, fmt.Errorf("row count: %w", err)
	}
	return LoadResult{Rows: n}, settle(ctx, tx, rel.System)
}

// missingOrder reports whether the stored ICD-10 release id lacks the
// order numbers of its order file (stored before migration 00018).
func missingOrder(ctx context.Context, tx *sql.Tx, id int64, system codes.System) (bool, error) {
	if system != codes.ICD10CM && system != codes.ICD10PCS {
		return false, nil
	}
	var missing bool
	err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM code_entries WHERE release_id = $1 AND ord IS NULL)`, id).Scan(&missing)
	if err != nil {
		return false, fmt.Errorf("find order numbers: %w", err)
	}
	return missing, nil
}

// ErrReleaseNotLoaded is wrapped by the error of OrderRecords when no
// release of the system and version is stored.
var ErrReleaseNotLoaded = errors.New("release not loaded")

// OrderRecords returns the records of the stored ICD-10-CM or ICD-10-PCS
// release rel in tabular order, with their order numbers, as the order
// file it was loaded from has them: the base a fiscal year's addenda is
// applied to (codes.DeriveOrder). It wraps ErrReleaseNotLoaded when rel is
// not stored, and refuses a release stored before order numbers were
// recorded (loading the same file again records them).
func (s *CodeStore) OrderRecords(ctx context.Context, rel codes.Release) ([]codes.OrderRecord, error) {
	if rel.System != codes.ICD10CM && rel.System != codes.ICD10PCS {
		return nil, fmt.Errorf("postgres.OrderRecords: %s has no order file", rel.System)
	}
	var id int64
	err := s.db.QueryRowContext(ctx, `SELECT id FROM code_releases WHERE system = $1 AND version = $2`, rel.System, rel.Version).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("postgres.OrderRecords: %s %s: %w", rel.System, rel.Version, ErrReleaseNotLoaded)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres.OrderRecords: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT ord, code, billable, short_title, long_title FROM code_entries
		WHERE release_id = $1 ORDER BY ord NULLS FIRST`, id)
	if err != nil {
		return nil, fmt.Errorf("postgres.OrderRecords: %w", err)
	}
	defer rows.Close()
	var out []codes.OrderRecord
	for rows.Next() {
		var o codes.OrderRecord
		var ord sql.NullInt64
		if err := rows.Scan(&ord, &o.Code, &o.Billable, &o.Short, &o.Long); err != nil {
			return nil, fmt.Errorf("postgres.OrderRecords: %w", err)
		}
		if !ord.Valid {
			return nil, fmt.Errorf("postgres.OrderRecords: %s %s was stored before codebridge recorded the tabular order of order files; load its order file again (codes load --system %s --version %s FILE) to record it",
				rel.System, rel.Version, rel.System, rel.Version)
		}
		o.Order = int(ord.Int64)
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres.OrderRecords: %w", err)
	}
	return out, nil
}

// settle merges the GIN pending lists the load filled and refreshes the
// planner statistics, so that the first searches after a load are fast.
func settle(ctx context.Context, tx *sql.Tx, system codes.System) error {
	table := map[codes.System]string{codes.MUETable: "code_mues", codes.PTPTable: "code_ptps",
		codes.POAExemptList: "code_poa_exempt", codes.ICD10CMTabular: "code_tabular_nodes, code_tabular_notes", codes.MCE: "code_mce"}[system]
	if table == "" {
		table = "code_entries"
		_, err := tx.ExecContext(ctx, `SELECT gin_clean_pending_list('code_entries_search_idx'),
			gin_clean_pending_list('code_entries_trgm_idx')`)
		if err != nil {
			return fmt.Errorf("clean pending list: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, "ANALYZE "+table); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	return nil
}

// digest returns a reader over the content of r from its start and the
// SHA-256 of that content. A seekable r is read twice; anything else is
// spooled to a temporary file, removed by cleanup.
func digest(r io.Reader) (src io.Reader, sum []byte, cleanup func(), err error) {
	h := sha256.New()
	cleanup = func() {}
	if rs, ok := r.(io.ReadSeeker); ok {
		start, err := rs.Seek(0, io.SeekCurrent)
		if err == nil {
			if _, err := io.Copy(h, rs); err != nil {
				return nil, nil, cleanup, fmt.Errorf("read: %w", err)
			}
			if _, err := rs.Seek(start, io.SeekStart); err != nil {
				return nil, nil, cleanup, fmt.Errorf("rewind: %w", err)
			}
			return rs, h.Sum(nil), cleanup, nil
		}
	}
	f, err := os.CreateTemp("", "codebridge-codes-*")
	if err != nil {
		return nil, nil, cleanup, fmt.Errorf("spool: %w", err)
	}
	cleanup = func() { f.Close(); os.Remove(f.Name()) }
	if _, err := io.Copy(io.MultiWriter(h, f), r); err != nil {
		cleanup()
		return nil, nil, func() {}, fmt.Errorf("read: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		cleanup()
		return nil, nil, func() {}, fmt.Errorf("spool: %w", err)
	}
	return f, h.Sum(nil), cleanup, nil
}

// sourceName returns the base name of r when it has one.
func sourceName(r io.Reader) string {
	if n, ok := r.(interface{ Name() string }); ok {
		return filepath.Base(n.Name())
	}
	return ""
}

// namedReader gives in-memory content a source name for LoadRelease.
type namedReader struct {
	*bytes.Reader
	name string
}

func (n namedReader) Name() string { return n.name }

// copier streams rows into one table with COPY FROM STDIN, skipping
// repeated keys (the first occurrence wins).
type copier struct {
	stmt     *sql.Stmt
	seen     map[string]bool
	n        int
	progress func(int)
}

func newCopier(ctx context.Context, tx *sql.Tx, table string, progress func(int), cols ...string) (*copier, error) {
	stmt, err := tx.PrepareContext(ctx, fmt.Sprintf("COPY %s (%s) FROM STDIN", table, strings.Join(cols, ", ")))
	if err != nil {
		return nil, fmt.Errorf("copy %s: %w", table, err)
	}
	return &copier{stmt: stmt, seen: map[string]bool{}, progress: progress}, nil
}

// add copies one row unless key (when not empty) was copied before.
func (c *copier) add(ctx context.Context, key string, args ...any) error {
	if key != "" {
		if c.seen[key] {
			return nil
		}
		c.seen[key] = true
	}
	if _, err := c.stmt.ExecContext(ctx, args...); err != nil {
		return fmt.Errorf("copy row %d: %w", c.n+1, err)
	}
	c.n++
	if c.progress != nil && c.n%1000 == 0 {
		c.progress(c.n)
	}
	return nil
}

// finish flushes the COPY; on error the caller's transaction rolls back.
func (c *copier) finish(ctx context.Context, readErr error) (int, error) {
	if readErr != nil {
		c.stmt.Close()
		return 0, readErr
	}
	if _, err := c.stmt.ExecContext(ctx); err != nil {
		c.stmt.Close()
		return 0, fmt.Errorf("copy: %w", err)
	}
	if err := c.stmt.Close(); err != nil {
		return 0, fmt.Errorf("copy: %w", err)
	}
	if c.progress != nil {
		c.progress(c.n)
	}
	return c.n, nil
}

var entryCols = []string{"release_id", "system", "code", "display", "billable", "short_title", "long_title", "valid_from", "valid_to", "action", "ord"}

// copyRelease parses src in the format of system and copies its records
// into the tables of release id.
func copyRelease(ctx context.Context, tx *sql.Tx, id int64, system codes.System, version string, r io.Reader, sc *codes.ShapeCheck, progress func(int)) (int, error) {
	if system == codes.ICD10CMTabular { // read twice, from its start
		return copyTabular(ctx, tx, id, codes.Release{System: system, Version: version}, r, sc, progress)
	}
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(512)
	switch system {
	case codes.ICD10CM, codes.ICD10PCS:
		c, err := newCopier(ctx, tx, "code_entries", progress, entryCols...)
		if err != nil {
			return 0, err
		}
		return c.finish(ctx, codes.ReadOrder(br, func(o codes.OrderRecord) error {
			sc.Add(system, o.Code, !o.Billable)
			return c.add(ctx, o.Code, id, system, o.Code, codes.Display(system, o.Code), o.Billable, o.Short, o.Long, nil, nil, "", o.Order)
		}))
	case codes.HCPCS:
		return copyHCPCS(ctx, tx, id, br, bytes.HasPrefix(head, []byte("PK\x03\x04")), sc, progress)
	case codes.CPT:
		c, err := newCopier(ctx, tx, "code_entries", progress, entryCols...)
		if err != nil {
			return 0, err
		}
		return c.finish(ctx, codes.ReadCPT(br, func(p codes.CPTRecord) error {
			sc.Add(system, p.Code, false)
			return c.add(ctx, p.Code, id, system, p.Code, p.Code, true, "", p.Description, nil, nil, "", nil)
		}))
	case codes.POAExemptList:
		c, err := newCopier(ctx, tx, "code_poa_exempt", progress, "release_id", "code", "title")
		if err != nil {
			return 0, err
		}
		return c.finish(ctx, codes.ReadPOAExempt(br, func(p codes.POAExempt) error {
			sc.Add(system, p.Code, false)
			return c.add(ctx, p.Code, id, p.Code, p.Title)
		}))
	case codes.MUETable:
		return copyMUE(ctx, tx, id, br, bytes.HasPrefix(bytes.TrimSpace(head), []byte("{")), sc, progress)
	case codes.PTPTable:
		return copyPTP(ctx, tx, id, br, sc, progress)
	case codes.MCE:
		return copyMCE(ctx, tx, id, version, br, sc, progress)
	}
	return 0, fmt.Errorf("cannot load system %q", system)
}

func copyHCPCS(ctx context.Context, tx *sql.Tx, id int64, r io.Reader, xlsx bool, sc *codes.ShapeCheck, progress func(int)) (int, error) {
	c, err := newCopier(ctx, tx, "code_entries", progress, entryCols...)
	if err != nil {
		return 0, err
	}
	read := codes.ReadHCPCSCSV
	if xlsx {
		read = codes.ReadHCPCSXLSX
	}
	return c.finish(ctx, read(r, func(h codes.HCPCSRecord) error {
		sys := codes.HCPCS
		if h.Modifier {
			sys = codes.HCPCSModifier
		}
		sc.Add(sys, h.Code, false)
		return c.add(ctx, h.Code, id, sys, h.Code, h.Code, true, h.Short, h.Long, nullDate(h.Added), nullDate(h.Terminated), h.Action, nil)
	}))
}

func copyMUE(ctx context.Context, tx *sql.Tx, id int64, r io.Reader, json bool, sc *codes.ShapeCheck, progress func(int)) (int, error) {
	c, err := newCopier(ctx, tx, "code_mues", progress, "release_id", "code", "max_units", "indicator", "rationale")
	if err != nil {
		return 0, err
	}
	read := codes.ReadMUE
	if json {
		read = codes.ReadMUEJSON
	}
	err = read(r, func(m codes.MUE) error {
		sc.Add(codes.MUETable, m.Code, false)
		return c.add(ctx, m.Code, id, m.Code, m.MaxUnits, int(m.Indicator), m.Rationale)
	})
	if err == nil && json { // the JSON extract is partial: record it (codes.ErrMUEPartial)
		err = c.add(ctx, codes.MUEPartialMarker, id, codes.MUEPartialMarker, 0, 0, "partial extract")
	}
	n, err := c.finish(ctx, err)
	if json && err == nil {
		n-- // the marker is not a record of the file
	}
	return n, err
}

func copyPTP(ctx context.Context, tx *sql.Tx, id int64, r io.Reader, sc *codes.ShapeCheck, progress func(int)) (int, error) {
	c, err := newCopier(ctx, tx, "code_ptps", progress,
		"release_id", "column1", "column2", "prior_to_1996", "effective", "deleted", "modifier", "rationale")
	if err != nil {
		return 0, err
	}
	return c.finish(ctx, codes.ReadPTP(r, func(p codes.PTP) error {
		sc.Add(codes.PTPTable, p.Column1, false)
		return c.add(ctx, "", id, p.Column1, p.Column2, p.PriorTo1996, p.Effective, nullDate(p.Deleted), p.Modifier, p.Rationale)
	}))
}

// nullDate stores a zero time as NULL.
func nullDate(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// ListReleases returns the loaded releases by system, newest first.
func (s *CodeStore) ListReleases(ctx context.Context) ([]ReleaseInfo, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT system, version, valid_from, valid_to, loaded_at, row_count, billable_count, source_name, sha256
		FROM code_releases ORDER BY system, valid_from DESC, version`)
	if err != nil {
		return nil, fmt.Errorf("postgres.ListReleases: %w", err)
	}
	defer rows.Close()
	var out []ReleaseInfo
	for rows.Next() {
		var ri ReleaseInfo
		var sum []byte
		if err := rows.Scan(&ri.System, &ri.Version, &ri.From, &ri.To, &ri.LoadedAt, &ri.Rows, &ri.Billable, &ri.Source, &sum); err != nil {
			return nil, fmt.Errorf("postgres.ListReleases: %w", err)
		}
		ri.From, ri.To, ri.SHA256 = codes.Day(ri.From), codes.Day(ri.To), hex.EncodeToString(sum)
		out = append(out, ri)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres.ListReleases: %w", err)
	}
	return out, nil
}

// BundledLoad reports what LoadBundled did with one bundled set.
type BundledLoad struct {
	Release codes.Release
	Name    string
	// Rows is the number of records stored.
	Rows     int
	Duration time.Duration
}

// LoadBundled loads every code set bundled in codebridge (codes.Bundled)
// whose system has no stored release over the bundle's dates (of its
// version or another: a release a site loaded for those dates, such as the
// full CMS MUE table of the quarter, is never replaced by a bundle), and
// reports what it loaded. When every set is loaded already it costs one
// query.
func (s *CodeStore) LoadBundled(ctx context.Context) ([]BundledLoad, error) {
	rels, err := s.ListReleases(ctx)
	if err != nil {
		return nil, err
	}
	var out []BundledLoad
	for _, b := range bundlesToLoad(rels, codes.Bundled()) {
		start := time.Now()
		data, err := readBundle(b)
		if err != nil {
			return out, err
		}
		res, err := s.LoadRelease(ctx, b.Release, namedReader{bytes.NewReader(data), b.Name}, nil)
		if err != nil {
			return out, fmt.Errorf("postgres.LoadBundled %s: %w", b.Name, err)
		}
		if res.Unchanged { // loaded concurrently since the listing
			continue
		}
		out = append(out, BundledLoad{Release: b.Release, Name: b.Name, Rows: res.Rows, Duration: time.Since(start)})
	}
	return out, nil
}

// bundlesToLoad returns the bundles of bs whose system has no stored
// release over any of the bundle's dates.
func bundlesToLoad(stored []ReleaseInfo, bs []codes.Bundle) []codes.Bundle {
	var out []codes.Bundle
	for _, b := range bs {
		if !slices.ContainsFunc(stored, func(r ReleaseInfo) bool {
			return r.System == b.Release.System && !r.From.After(b.Release.To) && !r.To.Before(b.Release.From)
		}) {
			out = append(out, b)
		}
	}
	return out
}

// readBundle returns the uncompressed content of b.
func readBundle(b codes.Bundle) ([]byte, error) {
	rc, err := b.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("postgres.LoadBundled %s: %w", b.Name, err)
	}
	return data, nil
}
