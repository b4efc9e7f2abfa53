package fhirclient

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// LogicalReferences rewrites the references of a Claim for a server that
// does not hold codebridge's resources. Every Reference whose "reference"
// is a relative "Type/id" becomes a logical reference: its identifier
// (the one it already carries, such as a provider's NPI, or the one ids
// names for it, such as the patient's MRN or the prior Claim's identifier)
// and its type, without the literal reference, which would dangle on the
// sink (a reference-checking server such as HAPI rejects those). A
// resource with no identifier of its own (a Coverage sent without one, say)
// is named by its codebridge id under the system "urn:codebridge:{Type}",
// so the sink still gets a well-formed logical reference that a biller can
// resolve against codebridge's FHIR API ([base]/{Type}/{value}).
func LogicalReferences(raw []byte, ids map[string]workitem.Identifier) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("fhirclient: decode Claim: %w", err)
	}
	logical(doc, ids)
	return json.Marshal(doc)
}

// LocalSystemPrefix + a resource type is the identifier system of
// codebridge's own resource ids in logical references.
const LocalSystemPrefix = "urn:codebridge:"

func logical(v any, ids map[string]workitem.Identifier) {
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			logical(e, ids)
		}
	case map[string]any:
		if ref, ok := v["reference"].(string); ok {
			toLogical(v, ref, ids)
		}
		for k, e := range v {
			if k != "identifier" {
				logical(e, ids)
			}
		}
	}
}

// toLogical turns one Reference object into a logical reference when an
// identifier is at hand.
func toLogical(r map[string]any, ref string, ids map[string]workitem.Identifier) {
	typ, id, ok := strings.Cut(ref, "/")
	if !ok || id == "" || strings.Contains(id, "/") {
		return // absolute, urn: or contained: left alone
	}
	if _, has := r["identifier"]; !has {
		ident, known := ids[ref]
		if !known || ident.Value == "" {
			ident = workitem.Identifier{System: LocalSystemPrefix + typ, Value: id}
		}
		r["identifier"] = map[string]any{"system": ident.System, "value": ident.Value}
	}
	delete(r, "reference")
	r["type"] = typ
}
