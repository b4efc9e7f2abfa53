package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// Claims is what the Claim routes need of the store.
type Claims interface {
	// ReadClaim reads the current (0) or a given version. Errors: NotFound.
	ReadClaim(ctx context.Context, id string, version int) (workitem.StoredResource, error)
	// SearchClaims answers a page of Claims. Errors: Invalid (cursor).
	SearchClaims(ctx context.Context, f workitem.ClaimFilter) ([]workitem.StoredResource, string, error)
	// ReadResource reads a stored resource (here: a Claim's Provenance). Errors: NotFound.
	ReadResource(ctx context.Context, typ, id string, version int) (workitem.StoredResource, error)
}

type claimAPI struct{ store Claims }

// RegisterClaims serves Claims read-only on /fhir/Claim for billers (and
// auditors and admins); writes are refused with 405.
func RegisterClaims(s *Server, store Claims) {
	a := &claimAPI{store: store}
	readers := Require(workitem.RoleBiller, workitem.RoleAuditor)
	s.FHIR.GET("/Claim", a.search, readers)
	s.FHIR.GET("/Claim/:id", a.read, readers)
	s.FHIR.GET("/Claim/:id/_history/:vid", a.vread, readers)
	s.FHIR.GET("/Provenance/:id", a.provenance, readers)
	readOnly := func(echo.Context) error {
		return workitem.Errorf(workitem.NotAllowed, "Claims are issued by codebridge and read-only to clients")
	}
	s.FHIR.POST("/Claim", readOnly)
	s.FHIR.PUT("/Claim/:id", readOnly)
	s.FHIR.DELETE("/Claim/:id", readOnly)
}

func (a *claimAPI) read(c echo.Context) error {
	r, err := a.store.ReadClaim(c.Request().Context(), c.Param("id"), 0)
	if err != nil {
		return err
	}
	return serveResource(c, http.StatusOK, r)
}

func (a *claimAPI) vread(c echo.Context) error {
	v, err := strconv.Atoi(c.Param("vid"))
	if err != nil || v < 1 {
		return workitem.Errorf(workitem.NotFound, "no version %q", c.Param("vid"))
	}
	r, err := a.store.ReadClaim(c.Request().Context(), c.Param("id"), v)
	if err != nil {
		return err
	}
	return serveResource(c, http.StatusOK, r)
}

// claimFilter reads the supported search parameters; any other parameter
// is a 400 naming it, so a client never gets an unfiltered answer by typo.
func claimFilter(q url.Values) (workitem.ClaimFilter, error) {
	var f workitem.ClaimFilter
	for name, vals := range q {
		v := vals[0]
		var err error
		switch name {
		case "encounter":
			f.Encounter, err = refParam(name, v, "Encounter")
		case "patient":
			f.Patient, err = refParam(name, v, "Patient")
		case "status":
			if v != "active" && v != "cancelled" {
				err = workitem.Errorf(workitem.Invalid, "status: %q is not active or cancelled", v)
			}
			f.Status = v
		case "_lastUpdated":
			f.UpdatedAfter, err = lastUpdatedParam(v)
		case "_count":
			f.Count, err = strconv.Atoi(v)
			if err != nil || f.Count < 1 || f.Count > 200 {
				err = workitem.Errorf(workitem.Invalid, "_count must be 1..200")
			}
		case "_cursor":
			f.Cursor = v
		case "_format":
		default:
			err = workitem.Errorf(workitem.Invalid, "search parameter %q is not supported on Claim (encounter, patient, status, _lastUpdated, _count)", name)
		}
		if err != nil {
			return f, err
		}
	}
	return f, nil
}

func refParam(name, v, typ string) (string, error) {
	id := strings.TrimPrefix(v, typ+"/")
	if id == "" || strings.Contains(id, "/") {
		return "", workitem.Errorf(workitem.Invalid, "%s must be %s/{id}", name, typ)
	}
	return id, nil
}

// lastUpdatedParam reads _lastUpdated=gt{instant} (the only prefix the
// incremental-pull use case needs).
func lastUpdatedParam(v string) (time.Time, error) {
	inst, ok := strings.CutPrefix(v, "gt")
	if !ok {
		return time.Time{}, workitem.Errorf(workitem.Invalid, "_lastUpdated supports the gt prefix only, e.g. gt2026-01-01T00:00:00Z")
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, inst); err == nil {
			return t, nil
		}
	}
	return time.Time{}, workitem.Errorf(workitem.Invalid, "_lastUpdated: %q is not an instant", inst)
}

type searchBundle struct {
	ResourceType string        `json:"resourceType"`
	Type         string        `json:"type"`
	Link         []bundleLink  `json:"link"`
	Entry        []searchEntry `json:"entry,omitempty"`
}

type bundleLink struct {
	Relation string `json:"relation"`
	URL      string `json:"url"`
}

type searchEntry struct {
	FullURL  string            `json:"fullUrl"`
	Resource json.RawMessage   `json:"resource"`
	Search   map[string]string `json:"search"`
}

func (a *claimAPI) search(c echo.Context) error {
	q := c.QueryParams()
	f, err := claimFilter(q)
	if err != nil {
		return err
	}
	rs, next, err := a.store.SearchClaims(c.Request().Context(), f)
	if err != nil {
		return err
	}
	base := c.Scheme() + "://" + c.Request().Host + "/fhir/Claim"
	b := searchBundle{ResourceType: "Bundle", Type: "searchset", Link: []bundleLink{{"self", base + "?" + q.Encode()}}}
	if next != "" {
		nq := url.Values{}
		for k, v := range q {
			nq[k] = v
		}
		nq.Set("_cursor", next)
		b.Link = append(b.Link, bundleLink{"next", base + "?" + nq.Encode()})
	}
	for _, r := range rs {
		b.Entry = append(b.Entry, searchEntry{FullURL: base + "/" + r.ID, Resource: r.Raw, Search: map[string]string{"mode": "match"}})
	}
	out, err := json.Marshal(b)
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "application/fhir+json; charset=utf-8", out)
}

// provenance serves the Provenance stored beside a Claim.
func (a *claimAPI) provenance(c echo.Context) error {
	r, err := a.store.ReadResource(c.Request().Context(), "Provenance", c.Param("id"), 0)
	if err != nil {
		return err
	}
	return serveResource(c, http.StatusOK, r)
}
