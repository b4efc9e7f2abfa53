package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/codebridge/codebridge/mapping/codes"
)

// copyMCE copies the Medicare Code Editor lists of one release (the CMS
// text file or the JSON extraction, codes.ReadMCE) into code_mce, and the
// age range of each age list into code_mce_ages. A list whose codes state
// two ranges is an error; the caller's transaction then rolls back.
func copyMCE(ctx context.Context, tx *sql.Tx, id int64, version string, r io.Reader, sc *codes.ShapeCheck, progress func(int)) (int, error) {
	c, err := newCopier(ctx, tx, "code_mce", progress, "release_id", "list", "code", "title")
	if err != nil {
		return 0, err
	}
	ages := map[codes.MCEList][2]int{}
	n, err := c.finish(ctx, codes.ReadMCE(r, version, func(m codes.MCERecord) error {
		sc.Add(codes.MCE, m.Code, false)
		if m.List.IsAge() {
			rng := [2]int{m.MinAge, m.MaxAge}
			if old, ok := ages[m.List]; ok && old != rng {
				return fmt.Errorf("MCE %s list: two age ranges (%d-%d and %d-%d)", m.List, old[0], old[1], rng[0], rng[1])
			}
			ages[m.List] = rng
		}
		return c.add(ctx, string(m.List)+" "+m.Code, id, string(m.List), m.Code, m.Title)
	}))
	if err != nil {
		return 0, err
	}
	for _, l := range slices.Sorted(maps.Keys(ages)) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO code_mce_ages (release_id, list, min_age, max_age) VALUES ($1, $2, $3, $4)`,
			id, string(l), ages[l][0], ages[l][1]); err != nil {
			return 0, fmt.Errorf("MCE %s age range: %w", l, err)
		}
	}
	return n, nil
}

// mceOverlaps reports whether releases of system may overlap under
// different versions: an MCE April update (vNN.1) governs the second half
// of vNN's fiscal year and takes precedence there (codes.PickMCE).
func mceOverlaps(system codes.System) bool { return system == codes.MCE }

// MCE implements codes.Lookup.
func (s *CodeStore) MCE(ctx context.Context, code string, dos time.Time) (codes.MCEFacts, error) {
	return codeLookup{s: s, q: s.db}.MCE(ctx, code, dos)
}

// MCE implements codes.Lookup with the semantics of codes.Catalog.MCE:
// the release is chosen by codes.PickMCE over the cached release list, the
// code's lists are read once per release and code (lookupCache).
func (l codeLookup) MCE(ctx context.Context, code string, dos time.Time) (codes.MCEFacts, error) {
	all, err := l.s.releases(ctx, l.q)
	if err != nil {
		return codes.MCEFacts{}, fmt.Errorf("mce %s: %w", dos.Format(time.DateOnly), err)
	}
	rows := all[codes.MCE]
	rels := make([]codes.Release, len(rows))
	for i, r := range rows {
		rels[i] = r.rel
	}
	i, note := codes.PickMCE(rels, dos)
	if i < 0 {
		return codes.MCEFacts{}, fmt.Errorf("mce %s: %w", dos.Format(time.DateOnly), codes.ErrNoRelease)
	}
	f := codes.MCEFacts{Release: rels[i], Outside: note != "", Note: note}
	code = codes.Normalize(codes.ICD10CM, code)
	k := lookupKey{kind: 'e', rel: rows[i].id, a: code}
	if v, ok := l.s.cache.get(k); ok {
		f.Lists = slices.Clone(v.([]codes.MCEListing))
		return f, nil
	}
	q, err := l.q.QueryContext(ctx, `SELECT m.list, m.title, COALESCE(a.min_age, 0), COALESCE(a.max_age, 0)
		FROM code_mce m LEFT JOIN code_mce_ages a ON a.release_id = m.release_id AND a.list = m.list
		WHERE m.release_id = $1 AND m.code = $2`, rows[i].id, code)
	if err != nil {
		return codes.MCEFacts{}, fmt.Errorf("mce %s: %w", code, err)
	}
	defer q.Close()
	ls := []codes.MCEListing{}
	for q.Next() {
		var x codes.MCEListing
		if err := q.Scan(&x.List, &x.Title, &x.MinAge, &x.MaxAge); err != nil {
			return codes.MCEFacts{}, fmt.Errorf("mce %s: %w", code, err)
		}
		ls = append(ls, x)
	}
	if err := q.Err(); err != nil {
		return codes.MCEFacts{}, fmt.Errorf("mce %s: %w", code, err)
	}
	codes.SortMCEListings(ls)
	l.s.cache.put(k, ls)
	f.Lists = slices.Clone(ls)
	return f, nil
}
