package httpapi

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/codebridge/codebridge/fhir"
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

type fhirAPI struct {
	store  ResourceStore
	parser *fhir.Parser
	svc    *ingest.Service // every write goes through it
}

// RegisterFHIR adds the FHIR REST routes for the supported clinical types:
// reads from store, every write through svc, the inbound use case cmd
// builds once and shares with every other way in (its parser and its
// Bundle limit are the routes' too).
func RegisterFHIR(s *Server, store ResourceStore, svc *ingest.Service) {
	a := &fhirAPI{store: store, parser: svc.Parser, svc: svc}
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

func (a *fhirAPI) create(c echo.Context) error {
	return a.write(c, ingest.Request{Method: http.MethodPost, Type: c.Param("type"),
		IfNoneExist: c.Request().Header.Get("If-None-Exist")})
}

func (a *fhirAPI) update(c echo.Context) error {
	return a.write(c, ingest.Request{Method: http.MethodPut, Type: c.Param("type"), ID: c.Param("id"),
		IfMatch: c.Request().Header.Get("If-Match")})
}

func (a *fhirAPI) delete(c echo.Context) error {
	r := ingest.Request{Method: http.MethodDelete, Type: c.Param("type"), ID: c.Param("id")}
	if _, err := a.svc.Write(c.Request().Context(), PrincipalOf(c).Name, r); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// write reads the body of a POST or PUT into r, writes it through the
// ingest use case and answers the stored version: 201 with Location when
// it is new, else 200.
func (a *fhirAPI) write(c echo.Context, r ingest.Request) error {
	// An unsupported type is a 404 before any complaint about the body.
	if err := ingest.CheckType(r.Type); err != nil {
		return err
	}
	raw, err := fhirBody(c)
	if err != nil {
		return err
	}
	r.Raw = raw
	res, err := a.svc.Write(c.Request().Context(), PrincipalOf(c).Name, r)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if res.Created {
		status = http.StatusCreated
		c.Response().Header().Set(echo.HeaderLocation, locationOf(c, res.StoredResource))
	}
	return serveResource(c, status, res.StoredResource)
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
	if err := ingest.CheckType(typ); err != nil {
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
	if err := ingest.CheckType(typ); err != nil {
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
