// Package workitemtest provides Store, an in-memory fake of codebridge's
// store for tests of the edges (adapters/httpapi, adapters/webui) in their
// own packages, as golang/pkgsite's internal/testing/fakedatasource does.
//
// It lives under mapping/workitem, beside the domain types and beside
// mapping/ingest whose Store it implements, because adapters must not
// import each other: every adapter's tests can import it, and it imports
// no adapter. It persists and answers; it does not decide. Version
// numbers, identical re-sends, tombstones, conditional creates and the
// NotFound, Precondition, Conflict and Invalid kinds behave as the
// PostgreSQL store's do where handlers depend on them; the work-item rules
// (who may code, status moves, QA routing) are not modelled: a test that
// needs a refusal injects it with SetErr. The real store is tested on
// PostgreSQL (adapters/postgres) and end to end (cmd/codebridge).
package workitemtest

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/codebridge/codebridge/mapping/ingest"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// Now is the time of every version and change the fake stores.
var Now = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// Store is the in-memory fake. The zero value is not usable; call New.
// It is safe for concurrent use.
type Store struct {
	mu        sync.Mutex
	resources map[string][]version // "Type/id" -> versions, oldest first
	items     map[string]*itemRecord
	claims    map[string][]workitem.StoredResource // id -> versions
	reports   Reports
	errs      map[string]error
	calls     []string
	check     workitem.Checker
	draw      func() float64 // the QA sample draw of Submit (SetDraw)
}

// SetDraw sets the QA sample draw Submit compares with the sample rate
// (the store's is rand.Float64); the default, 0.5, samples only at rates
// above one half.
func (s *Store) SetDraw(draw func() float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.draw = draw
}

// SetChecker gives the store the edit checker SaveCodes runs (with a nil
// code lookup), as postgres.StoreOptions.Check does for the real store.
func (s *Store) SetChecker(check workitem.Checker) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.check = check
}

type version struct {
	workitem.StoredResource
	hash        []byte
	identifiers []workitem.Identifier
}

type itemRecord struct {
	item    workitem.Item
	history []workitem.Transition
}

// Reports are the answers the report methods give.
type Reports struct {
	Backlog         workitem.BacklogReport
	Productivity    workitem.ProductivityReport
	Accuracy        workitem.AccuracyReport
	Queries         workitem.QueryReport
	StraightThrough workitem.StraightThroughReport
}

// New returns an empty fake store.
func New() *Store {
	return &Store{resources: map[string][]version{}, items: map[string]*itemRecord{},
		claims: map[string][]workitem.StoredResource{}, errs: map[string]error{},
		draw: func() float64 { return 0.5 }}
}

// SetErr makes every later call of the named method (e.g. "SaveCodes")
// fail with err; nil clears it.
func (s *Store) SetErr(method string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errs[method] = err
}

// Calls returns the calls made so far, one line each with the arguments a
// handler decides (e.g. "SaveCodes(w1, alice, ifVersion=3, lease=1m0s)").
func (s *Store) Calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// call records a call and answers its injected error; s.mu is held.
func (s *Store) call(method, format string, args ...any) error {
	s.calls = append(s.calls, method+"("+fmt.Sprintf(format, args...)+")")
	return s.errs[method]
}

// SetReports sets what the report methods answer.
func (s *Store) SetReports(r Reports) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reports = r
}

// AddClaim stores raw as the next version of Claim id and returns it.
func (s *Store) AddClaim(id string, raw []byte) workitem.StoredResource {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := workitem.StoredResource{Type: "Claim", ID: id, Version: len(s.claims[id]) + 1, LastUpdated: Now, Raw: raw}
	s.claims[id] = append(s.claims[id], r)
	return r
}

// ReadClaim reads the current (0) or a given version. Errors: NotFound.
func (s *Store) ReadClaim(_ context.Context, id string, v int) (workitem.StoredResource, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.call("ReadClaim", "%s, %d", id, v); err != nil {
		return workitem.StoredResource{}, err
	}
	vs := s.claims[id]
	if v == 0 {
		v = len(vs)
	}
	if v < 1 || v > len(vs) {
		return workitem.StoredResource{}, workitem.Errorf(workitem.NotFound, "Claim/%s/_history/%d not found", id, v)
	}
	return vs[v-1], nil
}

// SearchClaims answers the current Claims in id order, Count (default 50)
// a page; the cursor is the offset of the next page. Only Count and
// Cursor are applied. Errors: Invalid (cursor).
func (s *Store) SearchClaims(_ context.Context, f workitem.ClaimFilter) ([]workitem.StoredResource, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.call("SearchClaims", "%+v", f); err != nil {
		return nil, "", err
	}
	var all []workitem.StoredResource
	for _, id := range slices.Sorted(maps.Keys(s.claims)) {
		vs := s.claims[id]
		all = append(all, vs[len(vs)-1])
	}
	return page(all, f.Cursor, f.Count)
}

// page cuts one page of n (default 50) from all at the offset cursor.
func page[T any](all []T, cursor string, n int) ([]T, string, error) {
	from := 0
	if cursor != "" {
		var err error
		if from, err = strconv.Atoi(cursor); err != nil || from < 0 || from > len(all) {
			return nil, "", workitem.Errorf(workitem.Invalid, "cursor %q is not valid", cursor)
		}
	}
	if n <= 0 {
		n = 50
	}
	to := min(from+n, len(all))
	next := ""
	if to < len(all) {
		next = strconv.Itoa(to)
	}
	return all[from:to], next, nil
}

// Backlog answers the report set with SetReports.
func (s *Store) Backlog(context.Context) (workitem.BacklogReport, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reports.Backlog, s.call("Backlog", "")
}

// Productivity answers the report set with SetReports.
func (s *Store) Productivity(_ context.Context, r workitem.ReportRange) (workitem.ProductivityReport, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reports.Productivity, s.call("Productivity", "%s", rangeString(r))
}

// Accuracy answers the report set with SetReports.
func (s *Store) Accuracy(_ context.Context, r workitem.ReportRange) (workitem.AccuracyReport, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reports.Accuracy, s.call("Accuracy", "%s", rangeString(r))
}

// Queries answers the report set with SetReports.
func (s *Store) Queries(_ context.Context, r workitem.ReportRange) (workitem.QueryReport, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reports.Queries, s.call("Queries", "%s", rangeString(r))
}

// StraightThrough answers the report set with SetReports.
func (s *Store) StraightThrough(_ context.Context, r workitem.ReportRange) (workitem.StraightThroughReport, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reports.StraightThrough, s.call("StraightThrough", "%s", rangeString(r))
}

// rangeString is r as "from..to" dates, "" for an open bound.
func rangeString(r workitem.ReportRange) string {
	day := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.Format(time.DateOnly)
	}
	return day(r.From) + ".." + day(r.To)
}

// sameContent reports whether a write re-sends the current content.
func sameContent(cur version, w workitem.ResourceWrite) bool {
	return !cur.Deleted && bytes.Equal(cur.hash, w.Hash)
}

// matches reports whether v has the identifier or id normalised criteria
// ("identifier=system|value" or "_id=x") name.
func matches(v version, criteria string) bool {
	name, value, _ := strings.Cut(criteria, "=")
	if name == "_id" {
		return v.ID == value
	}
	for _, id := range v.identifiers {
		if id.System+"|"+id.Value == value || (!strings.Contains(value, "|") && id.Value == value) {
			return true
		}
	}
	return false
}

// The fake stands in for the store behind the ingest use case.
var _ ingest.Store = (*Store)(nil)
