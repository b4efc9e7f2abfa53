package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// ResourceReader reads stored FHIR resources. Errors: NotFound.
type ResourceReader interface {
	ReadResource(ctx context.Context, typ, id string, version int) (workitem.StoredResource, error)
}

type reportsAPI struct{ store workitem.Reports }

// RegisterReports adds the JSON reports under /api/v1/reports (auditor,
// admin) and the read of physician-query Communications on /fhir (coder,
// auditor, ehr), which the generic FHIR routes do not serve.
func RegisterReports(s *Server, store workitem.Reports, resources ResourceReader) {
	a := &reportsAPI{store: store}
	auditors := Require(workitem.RoleAuditor)
	s.API.GET("/reports/backlog", a.backlog, auditors)
	s.API.GET("/reports/productivity", a.productivity, auditors)
	s.API.GET("/reports/accuracy", a.accuracy, auditors)
	s.API.GET("/reports/queries", a.queries, auditors)
	s.API.GET("/reports/straight-through", a.straightThrough, auditors)

	readers := Require(workitem.RoleCoder, workitem.RoleAuditor, workitem.RoleEHR)
	s.FHIR.GET("/Communication/:id", func(c echo.Context) error {
		r, err := resources.ReadResource(c.Request().Context(), "Communication", c.Param("id"), 0)
		if err != nil {
			return err
		}
		return serveResource(c, http.StatusOK, r)
	}, readers)
	s.FHIR.GET("/Communication/:id/_history/:vid", func(c echo.Context) error {
		v, err := strconv.Atoi(c.Param("vid"))
		if err != nil || v < 1 {
			return workitem.Errorf(workitem.NotFound, "no version %q", c.Param("vid"))
		}
		r, err := resources.ReadResource(c.Request().Context(), "Communication", c.Param("id"), v)
		if err != nil {
			return err
		}
		return serveResource(c, http.StatusOK, r)
	}, readers)
}

// reportRange reads from= and to= (YYYY-MM-DD, inclusive); a bad value is
// a 400 naming the parameter.
func reportRange(c echo.Context) (workitem.ReportRange, error) {
	var r workitem.ReportRange
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &r.From}, {"to", &r.To}} {
		v := c.QueryParam(p.name)
		if v == "" {
			continue
		}
		d, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return r, workitem.Errorf(workitem.Invalid, "%s %q: want a date YYYY-MM-DD", p.name, v).
				WithIssues(workitem.Issue{Severity: "error", Code: "invalid", Diagnostics: "not a YYYY-MM-DD date", Expression: []string{p.name}})
		}
		*p.dst = d
	}
	if !r.From.IsZero() && !r.To.IsZero() && r.To.Before(r.From) {
		return r, workitem.Errorf(workitem.Invalid, "to %s is before from %s", r.To.Format(time.DateOnly), r.From.Format(time.DateOnly)).
			WithIssues(workitem.Issue{Severity: "error", Code: "invalid", Diagnostics: "to is before from", Expression: []string{"to"}})
	}
	return r, nil
}

func (a *reportsAPI) backlog(c echo.Context) error {
	r, err := a.store.Backlog(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

// productivity defaults to the last 30 days (UTC) when from is not given.
func (a *reportsAPI) productivity(c echo.Context) error {
	rg, err := reportRange(c)
	if err != nil {
		return err
	}
	if rg.To.IsZero() {
		rg.To = time.Now().UTC().Truncate(24 * time.Hour)
	}
	if rg.From.IsZero() {
		rg.From = rg.To.AddDate(0, 0, -29)
	}
	r, err := a.store.Productivity(c.Request().Context(), rg)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

func (a *reportsAPI) accuracy(c echo.Context) error {
	return ranged(c, a.store.Accuracy)
}

func (a *reportsAPI) queries(c echo.Context) error {
	return ranged(c, a.store.Queries)
}

func (a *reportsAPI) straightThrough(c echo.Context) error {
	return ranged(c, a.store.StraightThrough)
}

func ranged[T any](c echo.Context, f func(context.Context, workitem.ReportRange) (T, error)) error {
	rg, err := reportRange(c)
	if err != nil {
		return err
	}
	r, err := f(c.Request().Context(), rg)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}
