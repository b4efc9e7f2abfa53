package ingest

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// applyIfNoneMatch carries entry.request.ifNoneMatch into the planned
// writes. Bundles use it, as HTTP uses the If-None-Match header on a PUT
// (RFC 9110 13.1.2), only as "*": "create, or fail if the resource
// exists", which is how a writer that found nothing stored makes its
// update-as-create conditional on that (the HL7 v2 listener does, for a
// new visit). A deleted resource does not exist for it. On a POST it is
// always met (a create makes a new id) and has no effect; any other value,
// or one on a DELETE, is Invalid, never silently ignored. A transaction
// fails as a whole; a batch entry fails alone.
func applyIfNoneMatch(b *fhir.Bundle, plans []mapping.EntryPlan) error {
	for i := range plans {
		p := &plans[i]
		if p.Write == nil || i >= len(b.Entries) {
			continue
		}
		v := strings.TrimSpace(b.Entries[i].IfNoneMatch)
		switch {
		case v == "":
			continue
		case v == "*" && p.Write.Method == http.MethodPut:
			p.Write.IfNoneMatch = true
			continue
		case v == "*" && p.Write.Method == http.MethodPost:
			continue
		}
		path := fmt.Sprintf("Bundle.entry[%d].request.ifNoneMatch", i)
		msg := `ifNoneMatch is supported only as "*" on a PUT or POST entry (create only)`
		p.Write, p.Err = nil, (&workitem.Error{Kind: workitem.Invalid, Message: path + ": " + msg}).
			WithIssues(workitem.Issue{Severity: "error", Code: "not-supported", Diagnostics: msg, Expression: []string{path}})
		if b.Type == "transaction" {
			return p.Err
		}
	}
	return nil
}
