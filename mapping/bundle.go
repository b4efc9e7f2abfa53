package mapping

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// EntryPlan is what to do with one Bundle entry.
type EntryPlan struct {
	Index   int
	FullURL string
	Write   *workitem.ResourceWrite // nil when skipped or failed
	Skipped string                  // why the entry is accepted but not stored (unsupported type)
	Err     error                   // this entry cannot be processed (batch: reported in its response)
}

// PlanBundle prepares every entry of a transaction or batch Bundle: it
// assigns ids to creates, resolves urn:uuid fullUrls and rewrites the
// references that use them, and prepares each supported resource for the
// store. Entries of types codebridge does not use are skipped, not failed,
// so an EHR can send its whole patient Bundle. For a transaction, any entry
// error is returned as the error; for a batch it stays on its entry.
func PlanBundle(b *fhir.Bundle, newID func() string) ([]EntryPlan, error) {
	return PlanBundleWith(b, newID, nil)
}

// Existing finds the resource an If-None-Exist entry matches, so the
// Bundle's references to that entry point at it.
type Existing func(typ, criteria string) (id string, found bool, err error)

// PlanBundleWith is PlanBundle with conditional creates resolved through
// existing first: an entry whose If-None-Exist matches a stored resource
// takes that resource's id, and the references to its fullUrl are
// rewritten to it. A nil existing resolves nothing.
func PlanBundleWith(b *fhir.Bundle, newID func() string, existing Existing) ([]EntryPlan, error) {
	if b.Type != "transaction" && b.Type != "batch" {
		return nil, workitem.Errorf(workitem.Invalid, "Bundle.type %q: POST /fhir takes transaction or batch Bundles", b.Type).
			WithIssues(workitem.Issue{Severity: "error", Code: "value", Diagnostics: "Bundle.type must be transaction or batch", Expression: []string{"Bundle.type"}})
	}
	plans := make([]EntryPlan, len(b.Entries))
	ids := map[string]string{} // fullUrl -> Type/id
	skippedURLs := map[string]bool{}
	for i, e := range b.Entries {
		plans[i] = EntryPlan{Index: i, FullURL: e.FullURL}
		target, skip, err := entryTarget(e, newID, existing)
		switch {
		case err != nil:
			plans[i].Err = err
		case skip != "":
			plans[i].Skipped = skip
			skippedURLs[e.FullURL] = true
		case e.FullURL != "":
			ids[e.FullURL] = target
		}
		if err == nil && skip == "" {
			typ, id, _ := strings.Cut(target, "/")
			plans[i].Write = &workitem.ResourceWrite{Method: e.Method, Type: typ, ID: id}
		}
	}
	for i, e := range b.Entries {
		if plans[i].Write == nil {
			continue
		}
		if err := prepareEntry(&plans[i], e, ids, skippedURLs); err != nil {
			plans[i].Write, plans[i].Err = nil, err
		}
	}
	if b.Type == "transaction" {
		for _, p := range plans {
			if p.Err != nil {
				return plans, p.Err
			}
		}
	}
	return plans, nil
}

// entryTarget decides the Type/id an entry writes, or why it is skipped.
func entryTarget(e fhir.Entry, newID func() string, existing Existing) (target, skip string, err error) {
	path := fmt.Sprintf("Bundle.entry[%d].request", e.Index)
	url, _, _ := strings.Cut(e.URL, "?")
	url = strings.TrimPrefix(url, "/")
	parts := strings.Split(url, "/")
	typ := parts[0]
	if e.Resource != nil {
		typ = e.Resource.Type
	}
	switch e.Method {
	case "POST":
		if !IsSupported(typ) {
			return "", typ + " is not used by codebridge; entry skipped", nil
		}
		if parts[0] != typ || len(parts) != 1 {
			return "", "", entryErr(workitem.Invalid, path+".url", "POST url %q must be the resource type %s", e.URL, typ)
		}
		if e.IfNoneExist != "" && existing != nil {
			crit, err := NormalizeCriteria(typ, e.IfNoneExist)
			if err != nil {
				return "", "", err
			}
			id, found, err := existing(typ, crit)
			if err != nil {
				return "", "", err
			}
			if found {
				return typ + "/" + id, "", nil
			}
		}
		return typ + "/" + newID(), "", nil
	case "PUT", "DELETE":
		if len(parts) != 2 || parts[1] == "" {
			return "", "", entryErr(workitem.Invalid, path+".url", "%s url %q must be Type/id", e.Method, e.URL)
		}
		if !IsSupported(parts[0]) {
			return "", parts[0] + " is not used by codebridge; entry skipped", nil
		}
		if e.Resource != nil && parts[0] != typ {
			return "", "", entryErr(workitem.Invalid, path+".url", "url type %s does not match the resource type %s", parts[0], typ)
		}
		return parts[0] + "/" + parts[1], "", nil
	}
	return "", "", entryErr(workitem.Unprocessable, path+".method", "request.method %q is not supported in Bundles (POST, PUT, DELETE)", e.Method)
}

// prepareEntry rewrites the entry's references and prepares its write.
func prepareEntry(p *EntryPlan, e fhir.Entry, ids map[string]string, skipped map[string]bool) error {
	w := p.Write
	if e.Method == "DELETE" {
		return nil
	}
	if e.Resource == nil {
		return entryErr(workitem.Invalid, fmt.Sprintf("Bundle.entry[%d].resource", e.Index), "%s entry has no resource", e.Method)
	}
	var dangling []string
	err := e.Resource.RewriteReferences(func(ref string) (string, bool) {
		if to, ok := ids[ref]; ok {
			return to, true
		}
		if strings.HasPrefix(ref, "urn:") && !skipped[ref] {
			dangling = append(dangling, ref)
		}
		return "", false
	})
	if err != nil {
		return entryErr(workitem.Unprocessable, fmt.Sprintf("Bundle.entry[%d].resource", e.Index), "references: %v", err)
	}
	if len(dangling) > 0 {
		return entryErr(workitem.Unprocessable, fmt.Sprintf("Bundle.entry[%d].resource", e.Index),
			"reference %s resolves to no entry of this Bundle", dangling[0])
	}
	if e.Method == "PUT" && e.Resource.ID != "" && e.Resource.ID != w.ID {
		return entryErr(workitem.Invalid, fmt.Sprintf("Bundle.entry[%d].resource.id", e.Index), "resource id %q does not match the url id %q", e.Resource.ID, w.ID)
	}
	prepared, err := Prepare(e.Resource, w.ID, e.Method)
	if err != nil {
		return err
	}
	if e.IfNoneExist != "" && e.Method == "POST" {
		if prepared.IfNoneExist, err = NormalizeCriteria(w.Type, e.IfNoneExist); err != nil {
			return err
		}
	}
	if e.IfMatch != "" {
		if prepared.IfMatch, err = ParseETag(e.IfMatch); err != nil {
			return err
		}
	}
	*w = prepared
	return nil
}

func entryErr(k workitem.Kind, path, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	code := "invalid"
	if k == workitem.Unprocessable {
		code = "processing"
	}
	return (&workitem.Error{Kind: k, Message: path + ": " + msg}).WithIssues(workitem.Issue{Severity: "error", Code: code, Diagnostics: msg, Expression: []string{path}})
}

// ParseETag reads a version from an ETag or If-Match value: W/"3", "3" or 3.
func ParseETag(v string) (int, error) {
	s := strings.TrimPrefix(strings.TrimSpace(v), "W/")
	s = strings.Trim(s, `"`)
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, workitem.Errorf(workitem.Invalid, "If-Match %q is not a version ETag such as W/\"3\"", v)
	}
	return n, nil
}
