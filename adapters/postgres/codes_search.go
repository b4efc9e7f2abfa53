package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/lib/pq"

	"github.com/codebridge/codebridge/mapping/codes"
)

// CodeHit is one search result.
type CodeHit struct {
	System  codes.System
	Code    string // storage form: J209
	Display string // display form: J20.9
	// Billable is false for ICD-10 headers and for codes not in force on
	// the date searched: terminated before it, or effective after it.
	Billable bool
	Title    string
	// Terminated is the code's own termination date (HCPCS TERM DT) when
	// the code was terminated before the date searched; else zero.
	Terminated time.Time
	// Effective is the code's own effective date (HCPCS ADD DT) when it
	// is after the date searched; else zero.
	Effective time.Time
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
// the query (tier 1, shorter first), then full-text title matches (tier 2).
// The full-text branch stays cheap however many titles match: it ranks
// inside the GIN match with ts_rank alone, keeps the best $6*4, and only
// those are re-scored with trigram similarity to the whole title. Ties go
// to billable codes.
const searchSQL = `
(SELECT code, display, billable, long_title, 0 AS tier, 0::real AS score, valid_from, valid_to
   FROM code_entries WHERE release_id = $1 AND system = $2 AND $3 <> '' AND code = $3)
UNION ALL
(SELECT code, display, billable, long_title, 1, -length(code)::real, valid_from, valid_to
   FROM code_entries WHERE release_id = $1 AND system = $2 AND $3 <> '' AND code LIKE $3 || '%' AND code <> $3
  ORDER BY length(code), billable DESC, code LIMIT $6)
UNION ALL
(SELECT code, display, billable, long_title, 2, similarity(long_title, $4) + rank, valid_from, valid_to
   FROM (SELECT code, display, billable, long_title, valid_from, valid_to, ts_rank(search, to_tsquery('english', $5)) AS rank
           FROM code_entries
          WHERE release_id = $1 AND system = $2 AND $5 <> '' AND search @@ to_tsquery('english', $5)
          ORDER BY rank DESC, length(long_title), code LIMIT $6 * 4) best
  ORDER BY 6 DESC, billable DESC, code LIMIT $6)
ORDER BY tier, score DESC, billable DESC, code`

// unknownSQL returns the words of a text query ($3, to_tsquery terms)
// that match no title of the release: the likely misspellings. Stop words
// (an empty tsquery) are never unknown.
const unknownSQL = `
SELECT w FROM unnest($3::text[]) AS w
 WHERE numnode(to_tsquery('english', w)) > 0
   AND NOT EXISTS (SELECT 1 FROM code_entries
                    WHERE release_id = $1 AND system = $2 AND search @@ to_tsquery('english', w))`

// fuzzySQL is the fallback for misspellings ("bronchitiss"): titles with
// a word similar to the misspelt words $3 (pg_trgm word similarity), among
// the titles matching the correctly spelt words $4 when there are any.
const fuzzySQL = `
SELECT code, display, billable, long_title, 3, word_similarity($3, long_title) + similarity(long_title, $3), valid_from, valid_to
  FROM code_entries
 WHERE release_id = $1 AND system = $2 AND $3 <% long_title
   AND ($4 = '' OR search @@ to_tsquery('english', $4))
 ORDER BY 6 DESC, billable DESC, code LIMIT $5`

// SearchCodes finds codes of system for q: the code itself with or without
// its dot (J209 finds J20.9), codes starting with q, and titles matching
// its words, ranked in that order. It searches the release in force on
// date (today when zero) or, when none is, the newest release, and says so
// with InForce false. A code whose own dates (HCPCS ADD DT, TERM DT) do not
// cover date is not billable on it, and the hit says when it was
// terminated (or becomes effective). ICD-10 codes have no dates of their
// own: the release window is their validity, so a code deleted in a later
// fiscal year is simply absent from that year's release. It returns
// codes.ErrNoRelease when no release of system is loaded. limit is capped
// at 100 (default 20).
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
	seen := map[string]bool{}
	terms := tsTerms(text)
	titles, err := s.searchQuery(ctx, &out, system, seen, limit, searchSQL, rr.id, system, codeQuery(q), text,
		strings.Join(terms, " & "), limit)
	if err != nil {
		return CodeSearch{}, err
	}
	// A query that found codes by code ("J20.9") is no misspelling.
	codeHits := len(out.Hits) - titles
	if titles < limit && len(out.Hits) < limit && len(terms) > 0 && codeHits == 0 {
		if err := s.searchFuzzy(ctx, &out, rr.id, system, seen, limit, text, terms); err != nil {
			return CodeSearch{}, err
		}
	}
	for i := range out.Hits {
		out.Hits[i].onDate(date)
	}
	return out, nil
}

// onDate makes a hit not billable on day when its own validity dates do not
// cover day, recording the termination or effective date that excludes it:
// a HCPCS code terminated before the date of service is not billable on it
// (HCPCS quarterly file, TERM DT: "the last date for which a procedure or
// code may be used").
func (h *CodeHit) onDate(day time.Time) {
	day = codes.Day(day)
	if !h.Terminated.IsZero() && day.After(h.Terminated) {
		h.Billable, h.Effective = false, time.Time{}
		return
	}
	h.Terminated = time.Time{}
	if !h.Effective.IsZero() && day.Before(h.Effective) {
		h.Billable = false
		return
	}
	h.Effective = time.Time{}
}

// searchFuzzy adds the trigram matches for the words of the query that
// match no title (misspellings). A query whose words are all known has had
// its full answer from the full-text match and costs one cheap query more.
func (s *CodeStore) searchFuzzy(ctx context.Context, out *CodeSearch, id int64, system codes.System, seen map[string]bool, limit int, text string, terms []string) error {
	rows, err := s.db.QueryContext(ctx, unknownSQL, id, system, pq.Array(terms))
	if err != nil {
		return fmt.Errorf("postgres.SearchCodes: %w", err)
	}
	unknown := map[string]bool{}
	for rows.Next() {
		var w string
		if err := rows.Scan(&w); err != nil {
			rows.Close()
			return fmt.Errorf("postgres.SearchCodes: %w", err)
		}
		unknown[w] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postgres.SearchCodes: %w", err)
	}
	if len(unknown) == 0 {
		return nil
	}
	var bad, good []string
	for _, t := range terms {
		if unknown[t] {
			bad = append(bad, strings.TrimSuffix(t, ":*"))
		} else {
			good = append(good, t)
		}
	}
	_, err = s.searchQuery(ctx, out, system, seen, limit, fuzzySQL, id, system, strings.Join(bad, " "),
		strings.Join(good, " & "), limit)
	return err
}

// searchQuery runs one search query and appends its hits not seen yet to
// out, up to limit. It returns the number of title matches (tier 2) read.
func (s *CodeStore) searchQuery(ctx context.Context, out *CodeSearch, system codes.System, seen map[string]bool, limit int, query string, args ...any) (int, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return 0, fmt.Errorf("postgres.SearchCodes: %w", err)
	}
	defer rows.Close()
	titles := 0
	for rows.Next() {
		h := CodeHit{System: system}
		var tier int
		var score float64
		var from, to sql.NullTime
		if err := rows.Scan(&h.Code, &h.Display, &h.Billable, &h.Title, &tier, &score, &from, &to); err != nil {
			return 0, fmt.Errorf("postgres.SearchCodes: %w", err)
		}
		h.Effective, h.Terminated = utcDay(from), utcDay(to)
		if tier == 2 {
			titles++
		}
		if !seen[h.Code] && len(out.Hits) < limit {
			seen[h.Code] = true
			out.Hits = append(out.Hits, h)
		}
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("postgres.SearchCodes: %w", err)
	}
	return titles, nil
}

// searchRelease returns the release in force on date, or the newest one.
func (s *CodeStore) searchRelease(ctx context.Context, system codes.System, date time.Time) (releaseRow, bool, error) {
	rr, ok, err := s.inForce(ctx, s.db, system, date)
	if err != nil || ok {
		return rr, ok, err
	}
	rels, err := s.releases(ctx, s.db)
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

// tsTerms returns the to_tsquery terms matching the words of q, each as a
// prefix when it has three characters or more ("acute bronch" is
// "acute:*", "bronch:*"). Only letters and digits reach the query.
func tsTerms(q string) []string {
	words := strings.FieldsFunc(strings.ToLower(q), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	for i, w := range words {
		if len(w) >= 3 {
			words[i] = w + ":*"
		}
	}
	return words
}

// utcDay is a nullable date column as a UTC midnight, or zero.
func utcDay(t sql.NullTime) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return codes.Day(t.Time)
}
