package webui

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// The fakes below stand in for the store in tests of pure handler logic;
// the same handlers run on PostgreSQL in cmd/codebridge's workbench tests.

type fakeItems struct {
	mu      sync.Mutex
	items   map[string]workitem.Item
	saved   []workitem.Assignment
	saveErr error
	edits   []workitem.Edit
	submit  error
	queries []workitem.Query
}

func (f *fakeItems) GetItem(_ context.Context, id string) (workitem.Item, []workitem.Transition, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	it, ok := f.items[id]
	if !ok {
		return it, nil, workitem.Errorf(workitem.NotFound, "work item %s not found", id)
	}
	return it, []workitem.Transition{{Actor: "ehr1", From: workitem.Pending, To: workitem.Ready}}, nil
}

func (f *fakeItems) LeaseNext(_ context.Context, coder string, _ int, _ time.Duration) (workitem.Item, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for id, it := range f.items {
		if it.Status == workitem.Ready {
			it.Status, it.Assignee = workitem.InProgress, coder
			f.items[id] = it
			return it, true, nil
		}
	}
	return workitem.Item{}, false, nil
}

func (f *fakeItems) SaveCodes(_ context.Context, id string, a workitem.Actor, ifVersion int, as workitem.Assignment, _ time.Duration) ([]workitem.Edit, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.saveErr != nil {
		return nil, f.saveErr
	}
	it := f.items[id]
	if ifVersion != 0 && ifVersion != it.Version {
		return nil, workitem.Errorf(workitem.Precondition, "version %d, not %d", it.Version, ifVersion)
	}
	it.Version++
	it.Codes = &as
	f.items[id] = it
	f.saved = append(f.saved, as)
	return f.edits, nil
}

func (f *fakeItems) Submit(context.Context, string, workitem.Actor, workitem.SubmitOptions) error {
	return f.submit
}

func (f *fakeItems) OpenQuery(_ context.Context, _ string, _ workitem.Actor, q workitem.Query) (workitem.Query, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, q)
	return q, nil
}

func (f *fakeItems) AnswerQuery(context.Context, string, string, workitem.Actor, string) error {
	return nil
}

func (f *fakeItems) QAReviewOf(context.Context, string) (workitem.QAReview, error) {
	return workitem.QAReview{}, workitem.Errorf(workitem.NotFound, "none")
}

func (f *fakeItems) CoderCodes(context.Context, string) (workitem.Assignment, string, bool, error) {
	return workitem.Assignment{Diagnoses: []workitem.AssignedDiagnosis{{Code: "J20.9"}}}, "alice", true, nil
}

type fakeReports struct{}

func (fakeReports) Backlog(context.Context) (workitem.BacklogReport, error) {
	return workitem.BacklogReport{ByStatus: map[workitem.Status]int{workitem.Ready: 3}, ByAge: []workitem.AgeBucket{{Bucket: "0-3", Count: 3}}}, nil
}
func (fakeReports) Productivity(context.Context, workitem.ReportRange) (workitem.ProductivityReport, error) {
	return workitem.ProductivityReport{Coders: []workitem.CoderProductivity{{Coder: "alice", Items: 4, Lines: 6}}}, nil
}
func (fakeReports) Accuracy(context.Context, workitem.ReportRange) (workitem.AccuracyReport, error) {
	return workitem.AccuracyReport{}, nil
}
func (fakeReports) Queries(context.Context, workitem.ReportRange) (workitem.QueryReport, error) {
	return workitem.QueryReport{}, nil
}
func (fakeReports) StraightThrough(context.Context, workitem.ReportRange) (workitem.StraightThroughReport, error) {
	return workitem.StraightThroughReport{Looked: 4, Passed: 1, Skipped: 3, PassRate: 0.25,
		Reasons: []workitem.ReasonCount{{Code: "RANK_TIE", Count: 2}, {Code: "DX_NOT_CONFIRMED", Count: 1}}}, nil
}

type fakeSession struct {
	Session
	ended bool
}

type fakeState struct {
	mu       sync.Mutex
	sessions map[string]*fakeSession
	drafts   map[string][]byte
	prefs    map[string][]byte
	rows     []WorklistRow
	filters  []WorklistFilter // every worklist query, in order
}

func newFakeState() *fakeState {
	return &fakeState{sessions: map[string]*fakeSession{}, drafts: map[string][]byte{}, prefs: map[string][]byte{}}
}

func (f *fakeState) CreateSession(_ context.Context, h []byte, s Session) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sessions[string(h)] = &fakeSession{Session: s}
	return nil
}

func (f *fakeState) TouchSession(_ context.Context, h []byte, now time.Time, idle time.Duration) (Session, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.sessions[string(h)]
	switch {
	case !ok || s.ended:
		return Session{}, workitem.Errorf(workitem.NotFound, "no session")
	case !s.LastSeen.After(now.Add(-idle)):
		s.ended = true
		return Session{}, workitem.Errorf(workitem.Unauthorized, "expired")
	}
	s.LastSeen = now
	return s.Session, nil
}

func (f *fakeState) UISessionIdle(_ context.Context, h []byte, now time.Time) (time.Duration, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.sessions[string(h)]
	if !ok || s.ended {
		return 0, workitem.Errorf(workitem.NotFound, "no session")
	}
	return now.Sub(s.LastSeen), nil
}

func (f *fakeState) SetUILastChart(_ context.Context, h []byte, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sessions[string(h)].LastChart = id
	return nil
}

func (f *fakeState) EndUISession(_ context.Context, h []byte, _ time.Time, _ string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s, ok := f.sessions[string(h)]; ok {
		s.ended = true
	}
	return nil
}

func (f *fakeState) UILastChart(_ context.Context, p string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.sessions {
		if s.Principal == p && s.LastChart != "" {
			return s.LastChart, nil
		}
	}
	return "", nil
}

func (f *fakeState) PruneUISessions(context.Context, time.Time) (int64, error) { return 0, nil }

func (f *fakeState) SaveUIDraft(_ context.Context, p, id string, d []byte, _ time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.drafts[p+"/"+id] = d
	return nil
}

func (f *fakeState) UIDraft(_ context.Context, p, id string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.drafts[p+"/"+id], nil
}

func (f *fakeState) DeleteUIDraft(_ context.Context, p, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.drafts, p+"/"+id)
	return nil
}

func (f *fakeState) UIPrefs(_ context.Context, p string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.prefs[p], nil
}

func (f *fakeState) SaveUIPrefs(_ context.Context, p string, b []byte, _ time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.prefs[p] = b
	return nil
}

func (f *fakeState) WorklistPage(_ context.Context, wf WorklistFilter) ([]WorklistRow, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.filters = append(f.filters, wf)
	return f.rows, "", nil
}

type fakeCodes struct{}

func (fakeCodes) Search(_ context.Context, system, q string, _ time.Time, _ int) ([]CodeHit, string, error) {
	return []CodeHit{{System: system, Code: strings.ToUpper(q), Display: "Found " + q, Billable: true}}, "", nil
}

func (fakeCodes) Describe(_ context.Context, _, code string, _ time.Time) string {
	return "Title of " + code
}

// patientName is the synthetic patient of the tests: it must never appear
// in a title or a URL.
const patientName = "Zed Quixote"

// testbed is a Handler on fakes with a settable clock.
type testbed struct {
	t     *testing.T
	h     *Handler
	items *fakeItems
	state *fakeState
	now   time.Time
}

func newTestbed(t *testing.T, opts ...func(*Options)) *testbed {
	t.Helper()
	start := time.Date(2026, 3, 10, 14, 30, 0, 0, time.UTC)
	chart := &workitem.Chart{PatientSummary: &workitem.PatientView{Reference: "Patient/p1", Name: patientName},
		Documents:      []workitem.Document{{Reference: "DocumentReference/d1", Text: "Assessment: acute bronchitis."}},
		Conditions:     []workitem.DocumentedItem{{Reference: "Condition/c1", Codings: []workitem.Coding{{System: "http://hl7.org/fhir/sid/icd-10-cm", Code: "J20.9", Display: "Acute bronchitis, unspecified"}}}},
		SuggestedCodes: []workitem.SuggestedCode{{System: "icd10cm", Code: "J20.9", Display: "Acute bronchitis, unspecified", Source: "Condition/c1", Kind: "diagnosis"}}}
	tb := &testbed{t: t, items: &fakeItems{items: map[string]workitem.Item{
		"wi-1": {ID: "wi-1", Status: workitem.Ready, Class: "AMB", Version: 3, Chart: chart, ServiceStart: &start},
		"wi-2": {ID: "wi-2", Status: workitem.InReview, Class: "IMP", Version: 7, Chart: chart, ServiceStart: &start,
			Codes: &workitem.Assignment{Diagnoses: []workitem.AssignedDiagnosis{{Code: "J20.9", POA: "Y"}}}},
	}}, state: newFakeState(), now: start}
	tb.state.rows = []WorklistRow{{Item: tb.items.items["wi-1"], PatientName: patientName, Discharge: start}}
	o := Options{Items: tb.items, Reports: fakeReports{}, State: tb.state, Codes: fakeCodes{},
		Authenticate: func(_ context.Context, tok string) (Principal, error) {
			if p, ok := map[string]Principal{"tok-alice": {"alice", workitem.RoleCoder}, "tok-audrey": {"audrey", workitem.RoleAuditor},
				"tok-bill": {"bill", workitem.RoleBiller}}[tok]; ok {
				return p, nil
			}
			return Principal{}, errors.New("unknown token")
		},
		IdleTimeout: 15 * time.Minute, Now: func() time.Time { return tb.now }}
	for _, f := range opts {
		f(&o)
	}
	h, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	tb.h = h
	return tb
}

// client is one browser: its session cookie and CSRF token.
type client struct {
	tb      *testbed
	cookies map[string]*http.Cookie
	csrf    string
}

var csrfInPage = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

func (tb *testbed) client() *client { return &client{tb: tb, cookies: map[string]*http.Cookie{}} }

// do serves one request; form (when not nil) is sent url-encoded.
func (c *client) do(method, target string, form url.Values, headers ...string) *httptest.ResponseRecorder {
	var req *http.Request
	if form != nil {
		req = httptest.NewRequest(method, target, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, target, nil)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	for _, ck := range c.cookies {
		req.AddCookie(ck)
	}
	w := httptest.NewRecorder()
	c.tb.h.ServeHTTP(w, req)
	for _, ck := range w.Result().Cookies() {
		if ck.MaxAge < 0 {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck
		}
	}
	if m := csrfInPage.FindStringSubmatch(w.Body.String()); m != nil {
		c.csrf = m[1]
	}
	return w
}

// signIn signs in through the form and fails the test unless it worked.
func (c *client) signIn(token string) *httptest.ResponseRecorder {
	c.tb.t.Helper()
	page := c.do("GET", "/ui/login", nil).Body.String()
	m := regexp.MustCompile(`name="_login" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		c.tb.t.Fatalf("sign-in form without its token:\n%s", page)
	}
	return c.do("POST", "/ui/login", url.Values{"_login": {m[1]}, "token": {token}})
}

func sessionHash(cookie string) string {
	sum := sha256.Sum256([]byte(cookie))
	return string(sum[:])
}
