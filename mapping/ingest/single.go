package ingest

import (
	"context"
	"net/http"

	"github.com/google/uuid"

	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// Request is one single-resource REST write as the FHIR API receives it:
// POST Type, PUT Type/id or DELETE Type/id.
type Request struct {
	// Method is http.MethodPost, http.MethodPut or http.MethodDelete.
	Method string
	// Type and ID are the resource type and id the URL names; a POST has
	// no ID (the new resource gets a random one).
	Type, ID string
	// Raw is the FHIR JSON body of a POST or PUT; it is parsed once, here.
	Raw []byte
	// IfNoneExist is the If-None-Exist header of a POST (a conditional
	// create); "" for none.
	IfNoneExist string
	// IfMatch is the If-Match header of a PUT (a version ETag such as
	// W/"3"); "" for none.
	IfMatch string
}

// CheckType returns NotFound when codebridge does not serve resources of
// type typ (see /fhir/metadata), and nil when it does.
func CheckType(typ string) error {
	if !mapping.IsSupported(typ) {
		return workitem.Errorf(workitem.NotFound, "resource type %s is not supported (see /fhir/metadata)", typ)
	}
	return nil
}

// Write ingests one resource sent on its own and answers what the store
// did: the new version (Created for a new resource), or the current one,
// Unchanged, for an identical re-send or a conditional create that
// matched. A DELETE stores a tombstone (see WriteFor); deleting a missing
// or deleted resource is Unchanged. Errors: NotFound (a type codebridge
// does not serve), Invalid or Unprocessable (the body, a type or id that
// does not match the URL, a malformed header), Precondition (If-Match or
// If-None-Exist unmet), Conflict, Transient, Internal.
func (s *Service) Write(ctx context.Context, actor string, r Request) (workitem.WriteResult, error) {
	w, err := s.prepare(r)
	if err != nil {
		return workitem.WriteResult{}, DomainError(err)
	}
	out, err := s.Store.WriteResources(ctx, actor, []workitem.ResourceWrite{w})
	if err != nil {
		return workitem.WriteResult{}, DomainError(err)
	}
	return out[0], nil
}

// prepare turns r into the write the store receives.
func (s *Service) prepare(r Request) (workitem.ResourceWrite, error) {
	if err := CheckType(r.Type); err != nil {
		return workitem.ResourceWrite{}, err
	}
	switch r.Method {
	case http.MethodDelete:
		return WriteFor(workitem.ResourceWrite{Type: r.Type, ID: r.ID, Method: http.MethodDelete}), nil
	case http.MethodPost:
		return s.prepareCreate(r)
	case http.MethodPut:
		return s.prepareUpdate(r)
	}
	return workitem.ResourceWrite{}, workitem.Errorf(workitem.NotAllowed, "method %s is not a resource write", r.Method)
}

func (s *Service) prepareCreate(r Request) (workitem.ResourceWrite, error) {
	res, err := s.parseFor(r)
	if err != nil {
		return workitem.ResourceWrite{}, err
	}
	w, err := mapping.Prepare(res, uuid.NewString(), http.MethodPost)
	if err == nil && r.IfNoneExist != "" {
		w.IfNoneExist, err = mapping.NormalizeCriteria(r.Type, r.IfNoneExist)
	}
	return w, err
}

func (s *Service) prepareUpdate(r Request) (workitem.ResourceWrite, error) {
	res, err := s.parseFor(r)
	if err != nil {
		return workitem.ResourceWrite{}, err
	}
	if res.ID != r.ID {
		return workitem.ResourceWrite{}, workitem.Errorf(workitem.Invalid, "body id %q does not match the URL id %q", res.ID, r.ID).
			WithIssues(workitem.Issue{Severity: "error", Code: "invalid", Diagnostics: "Resource.id must equal the id in the URL", Expression: []string{r.Type + ".id"}})
	}
	w, err := mapping.Prepare(res, r.ID, http.MethodPut)
	if err == nil && r.IfMatch != "" {
		w.IfMatch, err = mapping.ParseETag(r.IfMatch)
	}
	return w, err
}

// parseFor parses the body as a resource of the URL's type.
func (s *Service) parseFor(r Request) (*fhir.Resource, error) {
	res, err := s.Parser.Parse(r.Raw)
	if err != nil {
		return nil, err
	}
	if res.Type != r.Type {
		return nil, workitem.Errorf(workitem.Invalid, "body is a %s, the URL says %s", res.Type, r.Type).
			WithIssues(workitem.Issue{Severity: "error", Code: "invalid", Diagnostics: "resourceType does not match the URL", Expression: []string{res.Type}})
	}
	return res, nil
}
