package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/codebridge/codebridge/mapping/codes"
)

// releaseRow is a cached stored release.
type releaseRow struct {
	id  int64
	rel codes.Release
	gen uint64 // the release list's generation (see CodeStore.gen)
}

// invalidate drops the cached release list.
func (s *CodeStore) invalidate() {
	s.mu.Lock()
	s.rels = nil
	s.mu.Unlock()
}

// releases returns the stored releases by system, newest window first,
// from the cache when it is fresh.
func (s *CodeStore) releases(ctx context.Context, q queryer) (map[codes.System][]releaseRow, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rels != nil && time.Since(s.cachedAt) < releaseTTL {
		return s.rels, nil
	}
	rows, err := q.QueryContext(ctx, `SELECT id, system, version, valid_from, valid_to
		FROM code_releases ORDER BY system, valid_from DESC, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("releases: %w", err)
	}
	defer rows.Close()
	rels := map[codes.System][]releaseRow{}
	for rows.Next() {
		var r releaseRow
		if err := rows.Scan(&r.id, &r.rel.System, &r.rel.Version, &r.rel.From, &r.rel.To); err != nil {
			return nil, fmt.Errorf("releases: %w", err)
		}
		r.rel.From, r.rel.To = codes.Day(r.rel.From), codes.Day(r.rel.To)
		rels[r.rel.System] = append(rels[r.rel.System], r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("releases: %w", err)
	}
	if sig := releaseSignature(rels); sig != s.sig {
		s.sig, s.gen = sig, s.gen+1
	}
	for sys, rs := range rels {
		for i := range rs {
			rels[sys][i].gen = s.gen
		}
	}
	s.rels, s.cachedAt = rels, time.Now()
	return rels, nil
}

// storedSystem is the system whose releases hold system's codes: HCPCS
// Level II modifiers live in the hcpcs release.
func storedSystem(system codes.System) codes.System {
	if system == codes.HCPCSModifier {
		return codes.HCPCS
	}
	return system
}

// inForce returns the release of system governing dos, if any.
func (s *CodeStore) inForce(ctx context.Context, q queryer, system codes.System, dos time.Time) (releaseRow, bool, error) {
	rels, err := s.releases(ctx, q)
	if err != nil {
		return releaseRow{}, false, err
	}
	for _, r := range rels[storedSystem(system)] {
		if r.rel.Covers(dos) {
			r.rel.System = system
			return r, true, nil
		}
	}
	return releaseRow{}, false, nil
}

// mustInForce is inForce with ErrNoRelease when none governs dos.
func (l codeLookup) mustInForce(ctx context.Context, system codes.System, dos time.Time) (releaseRow, error) {
	r, ok, err := l.s.inForce(ctx, l.q, system, dos)
	if err != nil {
		return r, fmt.Errorf("%s %s: %w", system, dos.Format(time.DateOnly), err)
	}
	if !ok {
		return r, fmt.Errorf("%s %s: %w", system, dos.Format(time.DateOnly), codes.ErrNoRelease)
	}
	return r, nil
}

const entrySelect = `SELECT e.billable, e.short_title, e.long_title, e.valid_from, e.valid_to, e.action,
	r.id, r.version, r.valid_from, r.valid_to
	FROM code_entries e JOIN code_releases r ON r.id = e.release_id `

// codeLookup is a CodeStore's codes.Lookup on one queryer: the pool, or a
// caller's transaction (CodeStore.OnTx). Every codeLookup of a store shares
// its release list and lookup cache.
type codeLookup struct {
	s *CodeStore
	q queryer
}

// OnTx returns the store's codes.Lookup on tx: the edits a coding action
// runs while it holds its work item locked look codes up on that
// transaction's connection instead of taking a second one from the pool (a
// request never holds one connection while waiting for another, which
// under a full pool is how requests starve each other). It shares the
// store's caches.
func (s *CodeStore) OnTx(tx *sql.Tx) codes.Lookup { return codeLookup{s: s, q: tx} }

// Code implements codes.Lookup with the semantics of codes.Catalog.Code.
func (s *CodeStore) Code(ctx context.Context, system codes.System, code string, dos time.Time) (codes.Entry, error) {
	return codeLookup{s: s, q: s.db}.Code(ctx, system, code, dos)
}

// MUE implements codes.Lookup.
func (s *CodeStore) MUE(ctx context.Context, code string, dos time.Time) (codes.MUE, error) {
	return codeLookup{s: s, q: s.db}.MUE(ctx, code, dos)
}

// PTP implements codes.Lookup.
func (s *CodeStore) PTP(ctx context.Context, column1, column2 string, dos time.Time) (codes.PTP, error) {
	return codeLookup{s: s, q: s.db}.PTP(ctx, column1, column2, dos)
}

// POAExempt implements codes.Lookup.
func (s *CodeStore) POAExempt(ctx context.Context, code string, dos time.Time) (bool, error) {
	return codeLookup{s: s, q: s.db}.POAExempt(ctx, code, dos)
}

// History implements codes.Lookup.
func (s *CodeStore) History(ctx context.Context, system codes.System, code string) (codes.History, error) {
	return codeLookup{s: s, q: s.db}.History(ctx, system, code)
}

// History implements codes.Lookup: the stored releases of system (from the
// release cache) and, in one query, the code's entries in them.
func (l codeLookup) History(ctx context.Context, system codes.System, code string) (codes.History, error) {
	rels, err := l.s.releases(ctx, l.q)
	if err != nil {
		return codes.History{}, fmt.Errorf("%s %s history: %w", system, code, err)
	}
	var h codes.History
	gen := uint64(0)
	for _, r := range rels[storedSystem(system)] {
		r.rel.System = system
		h.Releases = append(h.Releases, r.rel)
		gen = r.gen
	}
	if len(h.Releases) == 0 {
		return h, nil
	}
	code = codes.Normalize(system, code)
	k := lookupKey{kind: 'h', gen: gen, sys: system, a: code}
	if v, ok := l.s.cache.get(k); ok {
		h.Entries, _ = v.([]codes.Entry)
		return h, nil
	}
	rows, err := l.q.QueryContext(ctx, entrySelect+`WHERE e.system = $1 AND e.code = $2 ORDER BY r.valid_from DESC, r.id DESC`, system, code)
	if err != nil {
		return codes.History{}, fmt.Errorf("%s %s history: %w", system, codes.Display(system, code), err)
	}
	defer rows.Close()
	for rows.Next() {
		e := codes.Entry{System: system, Code: code}
		var from, to sql.NullTime
		var id int64
		if err := rows.Scan(&e.Billable, &e.Short, &e.Long, &from, &to, &e.Action,
			&id, &e.Release.Version, &e.Release.From, &e.Release.To); err != nil {
			return codes.History{}, fmt.Errorf("%s %s history: %w", system, codes.Display(system, code), err)
		}
		e.Release.System = system
		e.Release.From, e.Release.To = codes.Day(e.Release.From), codes.Day(e.Release.To)
		if from.Valid {
			e.From = codes.Day(from.Time)
		}
		if to.Valid {
			e.To = codes.Day(to.Time)
		}
		h.Entries = append(h.Entries, e)
	}
	if err := rows.Err(); err != nil {
		return codes.History{}, fmt.Errorf("%s %s history: %w", system, codes.Display(system, code), err)
	}
	l.s.cache.put(k, h.Entries)
	return h, nil
}

// Code implements codes.Lookup.
func (l codeLookup) Code(ctx context.Context, system codes.System, code string, dos time.Time) (codes.Entry, error) {
	rr, err := l.mustInForce(ctx, system, dos)
	if err != nil {
		return codes.Entry{}, err
	}
	code = codes.Normalize(system, code)
	e, err := l.scanEntry(ctx, lookupKey{kind: 'c', rel: rr.id, sys: system, a: code}, system, code,
		entrySelect+`WHERE e.release_id = $1 AND e.system = $2 AND e.code = $3`, rr.id, system, code)
	switch {
	case err == nil && !covers(e, dos):
		return e, fmt.Errorf("%s %s: %w", system, e.Display(), codes.ErrNotInForce)
	case err == nil:
		return e, nil
	case !errors.Is(err, sql.ErrNoRows):
		return codes.Entry{}, fmt.Errorf("%s %s: %w", system, codes.Display(system, code), err)
	}
	e, err = l.scanEntry(ctx, lookupKey{kind: 'o', rel: rr.id, gen: rr.gen, sys: system, a: code}, system, code,
		entrySelect+`WHERE e.system = $1 AND e.code = $2 AND e.release_id <> $3
		ORDER BY r.valid_from DESC LIMIT 1`, system, code, rr.id)
	switch {
	case err == nil:
		return e, fmt.Errorf("%s %s: %w", system, e.Display(), codes.ErrNotInForce)
	case !errors.Is(err, sql.ErrNoRows):
		return codes.Entry{}, fmt.Errorf("%s %s: %w", system, codes.Display(system, code), err)
	}
	return codes.Entry{}, fmt.Errorf("%s %s: %w", system, codes.Display(system, code), codes.ErrNotFound)
}

// scanEntry runs an entrySelect query and scans its one row, or answers
// from the cache (k) what the same query answered before.
func (l codeLookup) scanEntry(ctx context.Context, k lookupKey, system codes.System, code, query string, args ...any) (e codes.Entry, err error) {
	if v, ok := l.s.cache.get(k); ok {
		if v == nil {
			return codes.Entry{}, sql.ErrNoRows
		}
		return v.(codes.Entry), nil
	}
	defer func() {
		switch {
		case err == nil:
			l.s.cache.put(k, e)
		case errors.Is(err, sql.ErrNoRows):
			l.s.cache.put(k, nil)
		}
	}()
	e = codes.Entry{System: system, Code: code}
	var from, to sql.NullTime
	var id int64
	err = l.q.QueryRowContext(ctx, query, args...).Scan(&e.Billable, &e.Short, &e.Long, &from, &to, &e.Action,
		&id, &e.Release.Version, &e.Release.From, &e.Release.To)
	if err != nil {
		return codes.Entry{}, err
	}
	e.Release.System = system
	e.Release.From, e.Release.To = codes.Day(e.Release.From), codes.Day(e.Release.To)
	if from.Valid {
		e.From = codes.Day(from.Time)
	}
	if to.Valid {
		e.To = codes.Day(to.Time)
	}
	return e, nil
}

// covers reports whether the entry's own dates admit dos.
func covers(e codes.Entry, dos time.Time) bool {
	d := codes.Day(dos)
	return (e.From.IsZero() || !d.Before(e.From)) && (e.To.IsZero() || !d.After(e.To))
}

// MUE implements codes.Lookup.
func (l codeLookup) MUE(ctx context.Context, code string, dos time.Time) (codes.MUE, error) {
	rr, err := l.mustInForce(ctx, codes.MUETable, dos)
	if err != nil {
		return codes.MUE{}, err
	}
	m := codes.MUE{Code: codes.Normalize(codes.MUETable, code)}
	k := lookupKey{kind: 'm', rel: rr.id, a: m.Code}
	if v, ok := l.s.cache.get(k); ok {
		switch v := v.(type) {
		case nil:
			return codes.MUE{}, fmt.Errorf("mue %s: %w", m.Code, codes.ErrNotFound)
		case muePartialMiss:
			return codes.MUE{}, fmt.Errorf("mue %s: %w", m.Code, codes.ErrMUEPartial)
		default:
			return v.(codes.MUE), nil
		}
	}
	// One query answers both the code and, when it is absent, whether the
	// release is a partial extract (its marker row sorts after the code).
	var got string
	err = l.q.QueryRowContext(ctx, `SELECT code, max_units, indicator, rationale FROM code_mues
		WHERE release_id = $1 AND code IN ($2, $3) ORDER BY code = $3 LIMIT 1`,
		rr.id, m.Code, codes.MUEPartialMarker).Scan(&got, &m.MaxUnits, &m.Indicator, &m.Rationale)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		l.s.cache.put(k, nil)
		return codes.MUE{}, fmt.Errorf("mue %s: %w", m.Code, codes.ErrNotFound)
	case err != nil:
		return codes.MUE{}, fmt.Errorf("mue %s: %w", m.Code, err)
	case got == codes.MUEPartialMarker:
		l.s.cache.put(k, muePartialMiss{})
		return codes.MUE{}, fmt.Errorf("mue %s: %w", m.Code, codes.ErrMUEPartial)
	}
	l.s.cache.put(k, m)
	return m, nil
}

// muePartialMiss caches an MUE lookup that met codes.ErrMUEPartial.
type muePartialMiss struct{}

// PTP implements codes.Lookup.
func (l codeLookup) PTP(ctx context.Context, column1, column2 string, dos time.Time) (codes.PTP, error) {
	rr, err := l.mustInForce(ctx, codes.PTPTable, dos)
	if err != nil {
		return codes.PTP{}, err
	}
	c1, c2 := codes.Normalize(codes.PTPTable, column1), codes.Normalize(codes.PTPTable, column2)
	k := lookupKey{kind: 'p', rel: rr.id, a: c1, b: c2}
	var pairs []codes.PTP
	if v, ok := l.s.cache.get(k); ok {
		pairs, _ = v.([]codes.PTP)
	} else if pairs, err = l.ptpRows(ctx, rr.id, c1, c2); err != nil {
		return codes.PTP{}, fmt.Errorf("ptp %s/%s: %w", c1, c2, err)
	} else {
		l.s.cache.put(k, pairs)
	}
	for _, p := range pairs {
		if p.Active(dos) {
			return p, nil
		}
	}
	return codes.PTP{}, fmt.Errorf("ptp %s/%s: %w", c1, c2, codes.ErrNotFound)
}

// ptpRows reads the PTP rows of one code pair in a release, newest first.
func (l codeLookup) ptpRows(ctx context.Context, rel int64, c1, c2 string) ([]codes.PTP, error) {
	rows, err := l.q.QueryContext(ctx, `SELECT prior_to_1996, effective, deleted, modifier, rationale
		FROM code_ptps WHERE release_id = $1 AND column1 = $2 AND column2 = $3 ORDER BY effective DESC`, rel, c1, c2)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []codes.PTP
	for rows.Next() {
		p := codes.PTP{Column1: c1, Column2: c2}
		var deleted sql.NullTime
		if err := rows.Scan(&p.PriorTo1996, &p.Effective, &deleted, &p.Modifier, &p.Rationale); err != nil {
			return nil, err
		}
		p.Effective = codes.Day(p.Effective)
		if deleted.Valid {
			p.Deleted = codes.Day(deleted.Time)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// POAExempt implements codes.Lookup.
func (l codeLookup) POAExempt(ctx context.Context, code string, dos time.Time) (bool, error) {
	rr, err := l.mustInForce(ctx, codes.POAExemptList, dos)
	if err != nil {
		return false, err
	}
	code = codes.Normalize(codes.ICD10CM, code)
	k := lookupKey{kind: 'x', rel: rr.id, a: code}
	if v, ok := l.s.cache.get(k); ok {
		return v.(bool), nil
	}
	var ok bool
	err = l.q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM code_poa_exempt WHERE release_id = $1 AND code = $2)`,
		rr.id, code).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("poaexempt %s: %w", code, err)
	}
	l.s.cache.put(k, ok)
	return ok, nil
}

// releaseSignature names the stored release list (ids in order), so a
// change of the list is noticed on the next refresh.
func releaseSignature(rels map[codes.System][]releaseRow) string {
	var b strings.Builder
	for _, sys := range slices.Sorted(maps.Keys(rels)) {
		b.WriteString(string(sys))
		for _, r := range rels[sys] {
			b.WriteByte(' ')
			b.WriteString(strconv.FormatInt(r.id, 10))
		}
		b.WriteByte(';')
	}
	return b.String()
}

// lookupCache keeps what the code tables answered, per release id. A
// stored release never changes under its id (a reload with other content
// replaces it under a new id), so an answer keyed by release id stays true;
// answers that depend on the other releases (a code's newest release when
// the governing one lacks it) are keyed by the release list's generation as
// well. The edits of one chart ask for the same few dozen codes every
// coder uses, so after warm-up a save runs its edits from memory instead of
// ten or twenty round trips. Bounded: past lookupCacheMax entries the cache
// starts again empty, so codes typed wrong (cached as not found) or a
// sweep through the whole code set cannot grow it without limit. A lookup
// made on a transaction (OnTx) is cached like any other: the coding
// transactions that use it never write the code tables.
type lookupCache struct {
	mu sync.Mutex
	m  map[lookupKey]any
}

// lookupCacheMax bounds the cache: an entry with its long description is
// up to ~0.5 KB, so ~25 MB at most.
const lookupCacheMax = 50_000

type lookupKey struct {
	kind byte // 'c' code in release, 'o' code in other releases, 'm' MUE, 'p' PTP pair, 'x' POA exempt, 'h' history, 't' Tabular instructions
	rel  int64
	gen  uint64
	sys  codes.System
	a, b string
}

func (c *lookupCache) get(k lookupKey) (any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[k]
	return v, ok
}

func (c *lookupCache) put(k lookupKey, v any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= lookupCacheMax {
		c.m = make(map[lookupKey]any)
	}
	c.m[k] = v
}
