package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/codebridge/codebridge/mapping/codes"
)

// fakeCodes records the last search and answers one hit.
type fakeCodes struct {
	system codes.System
	q      string
	date   time.Time
	limit  int
}

func (f *fakeCodes) Search(_ context.Context, system codes.System, q string, date time.Time, limit int) (CodeResults, error) {
	f.system, f.q, f.date, f.limit = system, q, date, limit
	if system == codes.CPT {
		return CodeResults{}, fmt.Errorf("cpt: %w", codes.ErrNoRelease)
	}
	rel, _ := codes.NewRelease(codes.ICD10CM, "FY2026")
	return CodeResults{Release: rel, InForce: date.Before(rel.To),
		Hits: []CodeHit{{System: "icd10cm", Code: "J20.9", Display: "Acute bronchitis, unspecified", Billable: true}}}, nil
}

func (f *fakeCodes) Releases(context.Context) ([]CodeRelease, error) {
	return []CodeRelease{{System: "icd10cm", Version: "FY2026", From: "2025-10-01", To: "2026-09-30", Rows: 98186, Billable: 74719}}, nil
}

func newCodesServer(t *testing.T) (*Server, *fakeCodes) {
	s := newTestServer(t)
	f := &fakeCodes{}
	RegisterCodes(s, f)
	return s, f
}

func TestCodeSearchRoles(t *testing.T) {
	s, _ := newCodesServer(t)
	for token, want := range map[string]int{"": 401, "tok-ehr-123": 403, "tok-coder-123": 200,
		"tok-auditor-123": 200, "tok-biller-123": 200, "tok-admin-123": 200} {
		for _, path := range []string{"/api/v1/codes/search?q=J209", "/api/v1/codes/releases"} {
			if rec := do(t, s, "GET", path, token, ""); rec.Code != want {
				t.Errorf("GET %s as %q = %d, want %d", path, token, rec.Code, want)
			}
		}
	}
}

func TestCodeSearchParams(t *testing.T) {
	s, f := newCodesServer(t)
	rec := do(t, s, "GET", "/api/v1/codes/search?system=ICD10CM&q=+acute+bronchitis+&date=2025-11-14&limit=5", "tok-coder-123", "")
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if f.system != codes.ICD10CM || f.q != "acute bronchitis" || !f.date.Equal(time.Date(2025, 11, 14, 0, 0, 0, 0, time.UTC)) || f.limit != 5 {
		t.Errorf("searcher got %+v", f)
	}
	var got struct {
		Results []map[string]any `json:"results"`
		InForce bool             `json:"inForce"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || len(got.Results) != 1 || !got.InForce {
		t.Fatalf("body %s: %v", rec.Body, err)
	}
	want := map[string]any{"system": "icd10cm", "code": "J20.9", "display": "Acute bronchitis, unspecified", "billable": true}
	if fmt.Sprint(got.Results[0]) != fmt.Sprint(want) {
		t.Errorf("result = %v, want %v", got.Results[0], want)
	}
	do(t, s, "GET", "/api/v1/codes/search?q=J209", "tok-coder-123", "")
	if f.system != codes.ICD10CM || f.limit != 20 || !f.date.Equal(codes.Day(time.Now())) {
		t.Errorf("defaults: searcher got %+v", f)
	}
}

func TestCodeSearchBadParams(t *testing.T) {
	s, _ := newCodesServer(t)
	for query, param := range map[string]string{
		"system=snomed&q=x":             "system",
		"q=":                            "q",
		"q=x&date=2025-13-01":           "date",
		"q=x&date=yesterday":            "date",
		"q=x&limit=0":                   "limit",
		"q=x&limit=101":                 "limit",
		"q=x&limit=ten":                 "limit",
		"system=mue&q=80053":            "system",
		"q=" + strings.Repeat("a", 201): "q",
	} {
		rec := do(t, s, "GET", "/api/v1/codes/search?"+query, "tok-coder-123", "")
		var body apiError
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || rec.Code != 400 ||
			!strings.HasPrefix(body.Error.Message, param+":") || body.Error.Code == "" {
			t.Errorf("?%s = %d %s; want 400 naming %s", query, rec.Code, rec.Body, param)
		}
	}
}

func TestCodeSearchNoRelease(t *testing.T) {
	s, _ := newCodesServer(t)
	rec := do(t, s, "GET", "/api/v1/codes/search?system=cpt&q=99213", "tok-coder-123", "")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"results":[]`) || !strings.Contains(rec.Body.String(), "no cpt release") {
		t.Errorf("no CPT release: %d %s", rec.Code, rec.Body)
	}
	rec = do(t, s, "GET", "/api/v1/codes/search?q=J209&date=2031-01-01", "tok-coder-123", "")
	if !strings.Contains(rec.Body.String(), `"inForce":false`) || !strings.Contains(rec.Body.String(), "newest release") {
		t.Errorf("date out of range: %s", rec.Body)
	}
	rec = do(t, s, "GET", "/api/v1/codes/releases", "tok-auditor-123", "")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"version":"FY2026","validFrom":"2025-10-01","validTo":"2026-09-30"`) ||
		!strings.Contains(rec.Body.String(), `"rows":98186,"billable":74719`) {
		t.Errorf("releases: %d %s; want system, version, validFrom, validTo, rows, billable (CONTRACT section 4)", rec.Code, rec.Body)
	}
}

// terminatedCodes answers one HCPCS code terminated before any 2025 date.
type terminatedCodes struct{ fakeCodes }

func (terminatedCodes) Search(_ context.Context, system codes.System, _ string, _ time.Time, _ int) (CodeResults, error) {
	rel, _ := codes.NewRelease(codes.HCPCS, "2025-Oct")
	return CodeResults{Release: rel, InForce: true, Hits: []CodeHit{
		{System: "hcpcs", Code: "A4397", Display: "Irrigation supply; sleeve, each", Terminated: "2021-12-31"},
		{System: "hcpcs", Code: "J1885", Display: "Injection, ketorolac tromethamine, per 15 mg", Billable: true},
	}}, nil
}

// TestCodeSearchTerminated: a code terminated before the date asked is
// billable:false with its termination date; a code in force has no
// termination member at all (CONTRACT §4 additions only).
func TestCodeSearchTerminated(t *testing.T) {
	s := newTestServer(t)
	RegisterCodes(s, &terminatedCodes{})
	rec := do(t, s, "GET", "/api/v1/codes/search?system=hcpcs&q=a4397&date=2025-11-14", "tok-coder-123", "")
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var got struct {
		Results []map[string]any `json:"results"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || len(got.Results) != 2 {
		t.Fatalf("body %s: %v", rec.Body, err)
	}
	for i, want := range []map[string]any{
		{"system": "hcpcs", "code": "A4397", "display": "Irrigation supply; sleeve, each", "billable": false, "terminated": "2021-12-31"},
		{"system": "hcpcs", "code": "J1885", "display": "Injection, ketorolac tromethamine, per 15 mg", "billable": true},
	} {
		if fmt.Sprint(got.Results[i]) != fmt.Sprint(want) {
			t.Errorf("result %d = %v, want %v", i, got.Results[i], want)
		}
	}
}
