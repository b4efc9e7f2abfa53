package fhir

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// schemaGz is HL7's official FHIR R4 (4.0.1) JSON Schema, gzipped.
//
//go:embed schema/fhir.schema.json.gz
var schemaGz []byte

// schemaURL is the id the R4 schema declares for itself.
const schemaURL = "http://hl7.org/fhir/json-schema/4.0"

// schemaCompiler holds the parsed schema document; compiled per-resource
// schemas are cached in schemas. Compilers are not concurrency-safe, hence
// schemaMu.
var (
	schemaMu       sync.Mutex
	schemaCompiler *jsonschema.Compiler
	schemas        = map[string]*jsonschema.Schema{}
)

// schemaFor compiles (once per resource type) the schema definition of
// resourceType, so errors come from that definition alone rather than from
// the top-level oneOf over every resource type.
func schemaFor(resourceType string) (*jsonschema.Schema, error) {
	schemaMu.Lock()
	defer schemaMu.Unlock()
	if sch, ok := schemas[resourceType]; ok {
		return sch, nil
	}
	if schemaCompiler == nil {
		zr, err := gzip.NewReader(bytes.NewReader(schemaGz))
		if err != nil {
			return nil, err
		}
		doc, err := jsonschema.UnmarshalJSON(zr)
		if err != nil {
			return nil, err
		}
		c := jsonschema.NewCompiler()
		c.DefaultDraft(jsonschema.Draft6)
		if err := c.AddResource(schemaURL, doc); err != nil {
			return nil, err
		}
		schemaCompiler = c
	}
	sch, err := schemaCompiler.Compile(schemaURL + "#/definitions/" + resourceType)
	if err != nil {
		return nil, err
	}
	schemas[resourceType] = sch
	return sch, nil
}

// ValidateSchema checks JSON against the official R4 JSON Schema; use it as
// an independent check on Claims codebridge builds before sending them
// downstream. Failures are a *Error (422, code "structure") whose issues
// name the JSON location at fault; the validator's messages, which may quote
// values, go only into Diagnostics.
func ValidateSchema(raw []byte) error {
	typ, _, err := Sniff(raw)
	if err != nil {
		return err
	}
	if _, ok := resourceTypes()[typ]; !ok || !isUpper(typ) {
		return &Error{Status: http.StatusUnprocessableEntity, Issues: []Issue{
			NewIssue(SeverityError, IssueNotSupported, "unknown resource type", "resourceType")},
			reasons: []string{"resourceType: unknown resource type"}}
	}
	sch, err := schemaFor(typ)
	if err != nil {
		return fmt.Errorf("fhir.ValidateSchema: compile %s: %w", typ, err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return &Error{Status: http.StatusBadRequest, Issues: []Issue{
			NewIssue(SeverityError, IssueStructure, "invalid JSON: "+err.Error())},
			reasons: []string{"invalid JSON"}}
	}
	err = sch.Validate(doc)
	var ve *jsonschema.ValidationError
	if err == nil {
		return nil
	}
	if !errors.As(err, &ve) {
		return fmt.Errorf("fhir.ValidateSchema: %w", err)
	}
	return schemaError(typ, ve)
}

// schemaError flattens a jsonschema.ValidationError into an *Error with one
// issue per failing leaf.
func schemaError(rootType string, ve *jsonschema.ValidationError) *Error {
	e := &Error{Status: http.StatusUnprocessableEntity}
	for _, leaf := range leaves(ve) {
		path := joinPath(rootType, pointerPath(leaf.InstanceLocation))
		e.Issues = append(e.Issues, NewIssue(SeverityError, IssueStructure, leaf.Error(), path))
		e.reasons = append(e.reasons, path+": schema violation")
	}
	return e
}

// leaves returns the innermost causes of a validation error.
func leaves(ve *jsonschema.ValidationError) []*jsonschema.ValidationError {
	if len(ve.Causes) == 0 {
		return []*jsonschema.ValidationError{ve}
	}
	var out []*jsonschema.ValidationError
	for _, c := range ve.Causes {
		out = append(out, leaves(c)...)
	}
	return out
}

// pointerPath renders a JSON instance location as a FHIRPath-like string
// ("entry[3].resource.status"), relative to the resource.
func pointerPath(loc []string) string {
	var b bytes.Buffer
	for _, tok := range loc {
		if isIndex(tok) {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return b.String()
}

// isIndex reports whether a JSON pointer token is an array index.
func isIndex(tok string) bool {
	if tok == "" {
		return false
	}
	for _, c := range tok {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
