package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/codebridge/codebridge/mapping/codes"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// CodeHit is one code search result as the API answers it. Billable is
// false for headers and for codes not in force on the date asked; a code
// terminated before that date carries its termination date (Terminated,
// "terminated": "2025-12-31"), one effective after it its effective date.
type CodeHit struct {
	System     string `json:"system"`
	Code       string `json:"code"` // display form: J20.9
	Display    string `json:"display"`
	Billable   bool   `json:"billable"`
	Terminated string `json:"terminated,omitempty"` // YYYY-MM-DD
	Effective  string `json:"effective,omitempty"`  // YYYY-MM-DD
}

// CodeResults is what a CodeSearcher finds: the hits and the release
// searched. InForce is false when no release covers the date asked and
// the newest release was searched instead.
type CodeResults struct {
	Hits    []CodeHit
	Release codes.Release
	InForce bool
}

// CodeRelease is one loaded code-set release as the API lists it.
type CodeRelease struct {
	System   string    `json:"system"`
	Version  string    `json:"version"`
	From     string    `json:"validFrom"`
	To       string    `json:"validTo"`
	LoadedAt time.Time `json:"loadedAt"`
	Rows     int       `json:"rows"`
	// Billable is the number of billable codes of the release (ICD-10
	// codes that are not headers; every HCPCS and CPT code); 0 for the
	// MUE, PTP and POA-exempt tables (CONTRACT section 4).
	Billable int    `json:"billable"`
	Source   string `json:"source,omitempty"`
	SHA256   string `json:"sha256"`
}

// CodeSearcher is what the code routes need from the code-set store.
// Search returns an error wrapping codes.ErrNoRelease when no release of
// system is loaded.
type CodeSearcher interface {
	Search(ctx context.Context, system codes.System, q string, date time.Time, limit int) (CodeResults, error)
	Releases(ctx context.Context) ([]CodeRelease, error)
}

// codeRoles may search codes and list releases: coders and auditors need
// them to code and review, billers to read claims; admin is always
// allowed. EHR clients only send encounters and are refused.
var codeRoles = []workitem.Role{workitem.RoleCoder, workitem.RoleAuditor, workitem.RoleBiller}

// searchableSystems are the systems the search route accepts.
var searchableSystems = []codes.System{codes.ICD10CM, codes.ICD10PCS, codes.HCPCS, codes.CPT}

// RegisterCodes adds GET /api/v1/codes/search and GET /api/v1/codes/releases.
func RegisterCodes(s *Server, cs CodeSearcher) {
	h := codeHandlers{cs: cs}
	s.API.GET("/codes/search", h.search, Require(codeRoles...))
	s.API.GET("/codes/releases", h.releases, Require(codeRoles...))
}

type codeHandlers struct{ cs CodeSearcher }

type searchResponse struct {
	Results []CodeHit    `json:"results"`
	Release *CodeRelease `json:"release,omitempty"`
	InForce bool         `json:"inForce"`
	Note    string       `json:"note,omitempty"`
}

// search answers ?system=&q=&date=&limit=.
func (h codeHandlers) search(c echo.Context) error {
	system, q, date, limit, err := searchParams(c)
	if err != nil {
		return err
	}
	res, err := h.cs.Search(c.Request().Context(), system, q, date, limit)
	if errors.Is(err, codes.ErrNoRelease) {
		return c.JSON(http.StatusOK, searchResponse{Results: []CodeHit{}, Note: codes.SearchNote(system, date, codes.Release{})})
	}
	if err != nil {
		return err
	}
	out := searchResponse{Results: res.Hits, InForce: res.InForce, Release: &CodeRelease{
		System: string(res.Release.System), Version: res.Release.Version,
		From: res.Release.From.Format(time.DateOnly), To: res.Release.To.Format(time.DateOnly)}}
	if out.Results == nil {
		out.Results = []CodeHit{}
	}
	if !res.InForce {
		out.Note = codes.SearchNote(system, date, res.Release)
	}
	return c.JSON(http.StatusOK, out)
}

// searchParams validates the query parameters, naming the bad one.
func searchParams(c echo.Context) (system codes.System, q string, date time.Time, limit int, err error) {
	system = codes.ICD10CM
	if v := c.QueryParam("system"); v != "" {
		system = codes.System(strings.ToLower(v))
		if !containsSystem(searchableSystems, system) {
			return "", "", date, 0, workitem.Errorf(workitem.Invalid, "system: %q is not one of icd10cm, icd10pcs, hcpcs, cpt", v)
		}
	}
	q = strings.TrimSpace(c.QueryParam("q"))
	if q == "" || len(q) > 200 {
		return "", "", date, 0, workitem.Errorf(workitem.Invalid, "q: required, at most 200 characters")
	}
	date = codes.Day(time.Now())
	if v := c.QueryParam("date"); v != "" {
		if date, err = time.Parse(time.DateOnly, v); err != nil {
			return "", "", date, 0, workitem.Errorf(workitem.Invalid, "date: %q is not a date YYYY-MM-DD", v)
		}
	}
	limit = 20
	if v := c.QueryParam("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 100 {
			return "", "", date, 0, workitem.Errorf(workitem.Invalid, "limit: %q is not a number from 1 to 100", v)
		}
	}
	return system, q, date, limit, nil
}

func containsSystem(list []codes.System, s codes.System) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// releases lists the loaded releases.
func (h codeHandlers) releases(c echo.Context) error {
	rels, err := h.cs.Releases(c.Request().Context())
	if err != nil {
		return err
	}
	if rels == nil {
		rels = []CodeRelease{}
	}
	return c.JSON(http.StatusOK, map[string][]CodeRelease{"releases": rels})
}
