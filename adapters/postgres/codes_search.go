package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/codebridge/codebridge/mapping/codes"
)

// CodeHit is one search result.
type CodeHit struct {
	System   codes.System
	Code     string // storage form: J209
	Display  string // display form: J20.9
	Billable bool
	Title    string
}

// CodeSearch is the answer of SearchCodes.
type CodeSearch struct {
	// Release is the release searched.
	Release codes.Release
	// InForce is false when no release covers the date asked and the
	// newest release was searched instead.
	InForce bool
	Hits    []CodeHit
}

// searchSQL ranks an exact code first (tier 0), then codes starting with
// the query (tier 1, shorter first), then title matches (tier 2: full-text
// match or trigram word similarity, scored by trigram similarity to the
// whole title plus the full-text rank). Ties go to billable codes.
const searchSQL = `
(SELECT code, display, billable, long_title, 0 AS tier, 0::real AS score
   FROM code_entries WHERE release_id = $1 AND system = $2 AND $3 <> '' AND code = $3)
UNION ALL
(SELECT code, display, billable, long_title, 1, -length(code)::real
   FROM code_entries WHERE release_id = $1 AND system = $2 AND $3 <> '' AND code LIKE $3 || '%' AND code <> $3
  ORDER BY length(code), billable DESC, code LIMIT $6)
UNION ALL
(SELECT code, display, billable, long_title, 2,
        similarity(long_title, $4) + ts_rank(search, to_tsquery('english', $5))
   FROM code_entries
  WHERE release_id = $1 AND system = $2 AND $4 <> ''
    AND (($5 <> '' AND search @@ to_tsquery('english', $5)) OR $4 <% long_title)
  ORDER BY 6 DESC, billable DESC, code LIMIT $6)
ORDER BY tier, score DESC, billable DESC, code`

// SearchCodes finds codes of system for q: the code itself with or without
// its dot (J209 finds J20.9), codes starting with q, and titles matching
// its words, ranked in that order. It searches the release in force on
// date (today when zero) or, when none is, the newest release, and says so
// with InForce false. It returns codes.ErrNoRelease when no release of
// system is loaded. limit is capped at 100 (default 20).
func (s *CodeStore) SearchCodes(ctx context.Context, system codes.System, q string, date time.Time, limit int) (CodeSearch, error) {
	if limit <= 0 || limit > 100 {
		limit = min(max(limit, 20), 100)
	}
	if date.IsZero() {
		date = time.Now()
	}
	rr, inForce, err := s.searchRelease(ctx, system, date)
	if err != nil {
		return CodeSearch{}, fmt.Errorf("postgres.SearchCodes: %w", err)
	}
	out := CodeSearch{Release: rr.rel, InForce: inForce}
	text := strings.Join(strings.Fields(q), " ")
	rows, err := s.db.QueryContext(ctx, searchSQL, rr.id, system, codeQuery(q), text, tsQuery(text), limit)
	if err != nil {
		return CodeSearch{}, fmt.Errorf("postgres.SearchCodes: %w", err)
	}
	defer rows.Close()
	seen := map[string]bool{}
	for rows.Next() {
		h := CodeHit{System: system}
		var tier int
		var score float64
		if err := rows.Scan(&h.Code, &h.Display, &h.Billable, &h.Title, &tier, &score); err != nil {
			return CodeSearch{}, fmt.Errorf("postgres.SearchCodes: %w", err)
		}
		if !seen[h.Code] && len(out.Hits) < limit {
			seen[h.Code] = true
			out.Hits = append(out.Hits, h)
		}
	}
	if err := rows.Err(); err != nil {
		return CodeSearch{}, fmt.Errorf("postgres.SearchCodes: %w", err)
	}
	return out, nil
}

// searchRelease returns the release in force on date, or the newest one.
func (s *CodeStore) searchRelease(ctx context.Context, system codes.System, date time.Time) (releaseRow, bool, error) {
	rr, ok, err := s.inForce(ctx, system, date)
	if err != nil || ok {
		return rr, ok, err
	}
	rels, err := s.releases(ctx)
	if err != nil {
		return releaseRow{}, false, err
	}
	if list := rels[storedSystem(system)]; len(list) > 0 {
		rr = list[0]
		rr.rel.System = system
		return rr, false, nil
	}
	return releaseRow{}, false, fmt.Errorf("%s: %w", system, codes.ErrNoRelease)
}

// codeQuery returns q as a code in storage form ("j20.9" is J209), or ""
// when q cannot be a code.
func codeQuery(q string) string {
	c := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(q), ".", ""))
	if c == "" || len(c) > 8 {
		return ""
	}
	for _, r := range c {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return ""
		}
	}
	return c
}

// tsQuery builds a to_tsquery text matching every word of q, each as a
// prefix when it has three characters or more ("acute bronch" is
// "acute:* & bronch:*"). Only letters and digits reach the query.
func tsQuery(q string) string {
	words := strings.FieldsFunc(strings.ToLower(q), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	for i, w := range words {
		if len(w) >= 3 {
			words[i] = w + ":*"
		}
	}
	return strings.Join(words, " & ")
}
