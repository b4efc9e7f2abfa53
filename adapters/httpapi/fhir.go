package httpapi

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping"
	"github.com/codebridge/codebridge/mapping/ingest"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// ResourceStore is what the FHIR routes need of the store.
type ResourceStore interface {
	// WriteResources stores ws in one transaction. Errors: Precondition,
	// Conflict, Invalid, Internal.
	WriteResources(ctx context.Context, actor string, ws []workitem.ResourceWrite) ([]workitem.WriteResult, error)
	// ReadResource reads the current (version 0) or a given version. Errors: NotFound.
	ReadResource(ctx context.Context, typ, id string, version int) (workitem.StoredResource, error)
	// FindConditional answers the one resource matching If-None-Exist
	// criteria. Errors: Precondition, Invalid.
	FindConditional(ctx context.Context, typ, criteria string) (string, bool, error)
}

// FHIROptions configure the FHIR routes.
type FHIROptions struct {
	MaxBundleEntries int
}

type fhirAPI struct {
	store  ResourceStore
	parser *fhir.Parser
	opts   FHIROptions
}

// RegisterFHIR adds the FHIR REST routes for the supported clinical types.
func RegisterFHIR(s *Server, store ResourceStore, parser *fhir.Parser, o FHIROptions) {
	if o.MaxBundleEntries <= 0 {
		o.MaxBundleEntries = 1000
	}
	a := &fhirAPI{store: store, parser: parser, opts: o}
	s.FHIR.GET("/metadata", a.metadata) // any authenticated role: CONTRACT §2, every /fhir request carries a token
	write := Require(workitem.RoleEHR)
	read := Require(workitem.RoleEHR, workitem.RoleCoder, workitem.RoleAuditor)
	s.FHIR.POST("", a.bundle, write)
	s.FHIR.POST("/:type", a.create, write)
	s.FHIR.PUT("/:type/:id", a.update, write)
	s.FHIR.DELETE("/:type/:id", a.delete, write)
	s.FHIR.GET("/:type/:id", a.read, read)
	s.FHIR.GET("/:type/:id/_history/:vid", a.vread, read)
}

// body reads a FHIR JSON request body, enforcing the content type.
func fhirBody(c echo.Context) ([]byte, error) {
	ct := c.Request().Header.Get(echo.HeaderContentType)
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || (mt != "application/fhir+json" && mt != "application/json") {
		return nil, workitem.Errorf(workitem.UnsupportedMedia, "Content-Type %q: send application/fhir+json", ct)
	}
	b, err := io.ReadAll(c.Request().Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, workitem.Errorf(workitem.TooLarge, "request body over the limit of %d bytes", mbe.Limit)
		}
		if he, ok := err.(*echo.HTTPError); ok {
			return nil, he
		}
		return nil, workitem.Errorf(workitem.Invalid, "reading body: %v", err)
	}
	return b, nil
}

// parseErr converts a fhir parse error into a domain error with its issues.
func parseErr(err error) error { return ingest.DomainError(err) }

func supportedType(t string) error {
	if !mapping.IsSupported(t) {
		return workitem.Errorf(workitem.NotFound, "resource type %s is not supported (see /fhir/metadata)", t)
	}
	return nil
}

// parseFor parses the body as a resource of the URL's type.
func (a *fhirAPI) parseFor(c echo.Context, typ string) (*fhir.Resource, error) {
	raw, err := fhirBody(c)
	if err != nil {
		return nil, err
	}
	res, err := a.parser.Parse(raw)
	if err != nil {
		return nil, parseErr(err)
	}
	if res.Type != typ {
		return nil, workitem.Errorf(workitem.Invalid, "body is a %s, the URL says %s", res.Type, typ).
			WithIssues(workitem.Issue{Severity: "error", Code: "invalid", Diagnostics: "resourceType does not match the URL", Expression: []string{res.Type}})
	}
	return res, nil
}

func (a *fhirAPI) create(c echo.Context) error {
	typ := c.Param("type")
	if err := supportedType(typ); err != nil {
		return err
	}
	res, err := a.parseFor(c, typ)
	if err != nil {
		return err
	}
	w, err := mapping.Prepare(res, uuid.NewString(), http.MethodPost)
	if err != nil {
		return parseErr(err)
	}
	if ine := c.Request().Header.Get("If-None-Exist"); ine != "" {
		if w.IfNoneExist, err = mapping.NormalizeCriteria(typ, ine); err != nil {
			return err
		}
	}
	return a.writeOne(c, w)
}

func (a *fhirAPI) update(c echo.Context) error {
	typ, id := c.Param("type"), c.Param("id")
	if err := supportedType(typ); err != nil {
		return err
	}
	res, err := a.parseFor(c, typ)
	if err != nil {
		return err
	}
	if res.ID != id {
		return workitem.Errorf(workitem.Invalid, "body id %q does not match the URL id %q", res.ID, id).
			WithIssues(workitem.Issue{Severity: "error", Code: "invalid", Diagnostics: "Resource.id must equal the id in the URL", Expression: []string{typ + ".id"}})
	}
	w, err := mapping.Prepare(res, id, http.MethodPut)
	if err != nil {
		return parseErr(err)
	}
	if im := c.Request().Header.Get("If-Match"); im != "" {
		if w.IfMatch, err = mapping.ParseETag(im); err != nil {
			return err
		}
	}
	return a.writeOne(c, w)
}

func (a *fhirAPI) delete(c echo.Context) error {
	typ, id := c.Param("type"), c.Param("id")
	if err := supportedType(typ); err != nil {
		return err
	}
	w := workitem.ResourceWrite{Type: typ, ID: id, Method: http.MethodDelete}
	if _, err := a.store.WriteResources(c.Request().Context(), PrincipalOf(c).Name, []workitem.ResourceWrite{ingest.WriteFor(w)}); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (a *fhirAPI) writeOne(c echo.Context, w workitem.ResourceWrite) error {
	res, err := a.store.WriteResources(c.Request().Context(), PrincipalOf(c).Name, []workitem.ResourceWrite{w})
	if err != nil {
		return err
	}
	r := res[0]
	status := http.StatusOK
	if r.Created {
		status = http.StatusCreated
		c.Response().Header().Set(echo.HeaderLocation, locationOf(c, r.StoredResource))
	}
	return serveResource(c, status, r.StoredResource)
}

func locationOf(c echo.Context, r workitem.StoredResource) string {
	return c.Scheme() + "://" + c.Request().Host + "/fhir/" + r.Type + "/" + r.ID + "/_history/" + strconv.Itoa(r.Version)
}

func serveResource(c echo.Context, status int, r workitem.StoredResource) error {
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "application/fhir+json; charset=utf-8")
	h.Set("ETag", `W/"`+strconv.Itoa(r.Version)+`"`)
	h.Set(echo.HeaderLastModified, r.LastUpdated.UTC().Format(http.TimeFormat))
	return c.Blob(status, "application/fhir+json; charset=utf-8", r.Raw)
}

func (a *fhirAPI) read(c echo.Context) error {
	typ := c.Param("type")
	if err := supportedType(typ); err != nil {
		return err
	}
	r, err := a.store.ReadResource(c.Request().Context(), typ, c.Param("id"), 0)
	if err != nil {
		return err
	}
	return serveResource(c, http.StatusOK, r)
}

func (a *fhirAPI) vread(c echo.Context) error {
	typ := c.Param("type")
	if err := supportedType(typ); err != nil {
		return err
	}
	v, err := strconv.Atoi(c.Param("vid"))
	if err != nil || v < 1 {
		return workitem.Errorf(workitem.NotFound, "no version %q", c.Param("vid"))
	}
	r, err := a.store.ReadResource(c.Request().Context(), typ, c.Param("id"), v)
	if err != nil {
		return err
	}
	return serveResource(c, http.StatusOK, r)
}
