package codes

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"
)

// Catalog is an in-memory Lookup over loaded releases. It is safe for
// concurrent use; loading and looking up may interleave.
type Catalog struct {
	mu       sync.RWMutex
	releases map[System][]*table
}

// table holds the content of one release.
type table struct {
	rel     Release
	entries map[string]Entry
	mues    map[string]MUE
	ptps    map[[2]string][]PTP
	exempt  map[string]bool
	tabular *tabularTree            // icd10cm-tabular releases only
	mce     map[string][]MCEListing // MCE release: code -> its lists
}

var _ Lookup = (*Catalog)(nil)

// NewCatalog returns an empty Catalog.
func NewCatalog() *Catalog {
	return &Catalog{releases: map[System][]*table{}}
}

func newTable(rel Release) *table {
	return &table{rel: rel, entries: map[string]Entry{}, mues: map[string]MUE{},
		ptps: map[[2]string][]PTP{}, exempt: map[string]bool{}, mce: map[string][]MCEListing{}}
}

// add installs t, replacing a release of the same system and version.
func (c *Catalog) add(t *table) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ts := slices.DeleteFunc(c.releases[t.rel.System], func(o *table) bool {
		return o.rel.Version == t.rel.Version
	})
	ts = append(ts, t)
	// Newest window first, so an overlapping newer release wins.
	slices.SortFunc(ts, func(a, b *table) int { return b.rel.From.Compare(a.rel.From) })
	c.releases[t.rel.System] = ts
}

// Releases returns the loaded releases, by system and newest first.
func (c *Catalog) Releases() []Release {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []Release
	for _, s := range slices.Sorted(maps.Keys(c.releases)) {
		for _, t := range c.releases[s] {
			out = append(out, t.rel)
		}
	}
	return out
}

// InForce returns the release of system that governs dos.
func (c *Catalog) InForce(system System, dos time.Time) (Release, bool) {
	t := c.inForce(system, dos)
	if t == nil {
		return Release{}, false
	}
	return t.rel, true
}

func (c *Catalog) inForce(system System, dos time.Time) *table {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, t := range c.releases[system] {
		if t.rel.Covers(dos) {
			return t
		}
	}
	return nil
}

// Code implements Lookup.
func (c *Catalog) Code(ctx context.Context, system System, code string, dos time.Time) (Entry, error) {
	t := c.inForce(system, dos)
	if t == nil {
		return Entry{}, fmt.Errorf("%s %s: %w", system, dos.Format(time.DateOnly), ErrNoRelease)
	}
	code = Normalize(system, code)
	if e, ok := t.entries[code]; ok {
		e.Release = t.rel
		if !e.covers(dos) {
			return e, fmt.Errorf("%s %s: %w", system, e.Display(), ErrNotInForce)
		}
		return e, nil
	}
	if e, ok := c.elsewhere(system, code, t); ok {
		return e, fmt.Errorf("%s %s: %w", system, e.Display(), ErrNotInForce)
	}
	return Entry{}, fmt.Errorf("%s %s: %w", system, Display(system, code), ErrNotFound)
}

// elsewhere finds code in a loaded release of system other than skip.
func (c *Catalog) elsewhere(system System, code string, skip *table) (Entry, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, t := range c.releases[system] {
		if e, ok := t.entries[code]; ok && t != skip {
			e.Release = t.rel
			return e, true
		}
	}
	return Entry{}, false
}

// MUE implements Lookup.
func (c *Catalog) MUE(ctx context.Context, code string, dos time.Time) (MUE, error) {
	t := c.inForce(MUETable, dos)
	if t == nil {
		return MUE{}, fmt.Errorf("mue %s: %w", dos.Format(time.DateOnly), ErrNoRelease)
	}
	if m, ok := t.mues[Normalize(MUETable, code)]; ok {
		return m, nil
	}
	if _, partial := t.mues[MUEPartialMarker]; partial {
		return MUE{}, fmt.Errorf("mue %s: %w", code, ErrMUEPartial)
	}
	return MUE{}, fmt.Errorf("mue %s: %w", code, ErrNotFound)
}

// PTP implements Lookup.
func (c *Catalog) PTP(ctx context.Context, column1, column2 string, dos time.Time) (PTP, error) {
	t := c.inForce(PTPTable, dos)
	if t == nil {
		return PTP{}, fmt.Errorf("ptp %s: %w", dos.Format(time.DateOnly), ErrNoRelease)
	}
	key := [2]string{Normalize(PTPTable, column1), Normalize(PTPTable, column2)}
	for _, p := range t.ptps[key] {
		if p.Active(dos) {
			return p, nil
		}
	}
	return PTP{}, fmt.Errorf("ptp %s/%s: %w", key[0], key[1], ErrNotFound)
}

// POAExempt implements Lookup.
func (c *Catalog) POAExempt(ctx context.Context, code string, dos time.Time) (bool, error) {
	t := c.inForce(POAExemptList, dos)
	if t == nil {
		return false, fmt.Errorf("poaexempt %s: %w", dos.Format(time.DateOnly), ErrNoRelease)
	}
	return t.exempt[Normalize(ICD10CM, code)], nil
}

// History implements Lookup.
func (c *Catalog) History(ctx context.Context, system System, code string) (History, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	code = Normalize(system, code)
	var h History
	for _, t := range c.releases[system] {
		h.Releases = append(h.Releases, t.rel)
		if e, ok := t.entries[code]; ok {
			e.Release = t.rel
			h.Entries = append(h.Entries, e)
		}
	}
	return h, nil
}
