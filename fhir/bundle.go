package fhir

import (
	"encoding/json"
	"fmt"
	"net/http"

	r4pb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/bundle_and_contained_resource_go_proto"
)

// Bundle is a parsed Bundle with its entries split out.
type Bundle struct {
	// Type is Bundle.type, e.g. "transaction" or "batch".
	Type string
	// Msg is the whole parsed Bundle proto.
	Msg *r4pb.Bundle
	// Raw is the Bundle JSON as received.
	Raw []byte
	// Entries are the Bundle's entries in order.
	Entries []Entry
}

// Entry is one Bundle entry.
type Entry struct {
	// Index is the entry's position, as in "Bundle.entry[3]".
	Index int
	// FullURL is entry.fullUrl, e.g. "urn:uuid:...".
	FullURL string
	// Method is entry.request.method (POST, PUT, GET, DELETE...), or "".
	Method string
	// URL is entry.request.url, e.g. "Encounter" or "Patient/1".
	URL string
	// IfNoneExist is entry.request.ifNoneExist (conditional create query).
	IfNoneExist string
	// IfMatch is entry.request.ifMatch (an ETag such as W/"2").
	IfMatch string
	// IfNoneMatch is entry.request.ifNoneMatch.
	IfNoneMatch string
	// Resource is the entry's resource, whose Raw is that resource's JSON
	// exactly as sent inside the Bundle; nil when the entry has none.
	Resource *Resource
}

// ParseBundle parses a Bundle with ONE validating parse of the whole Bundle
// (errors name paths such as "Bundle.entry[3].resource.status") plus one
// cheap encoding/json pass that cuts out each entry's raw resource JSON.
// For transaction and batch Bundles every entry must carry a request.
func (p *Parser) ParseBundle(raw []byte) (*Bundle, error) {
	res, err := p.Parse(raw)
	if err != nil {
		return nil, err
	}
	msg, ok := res.Msg.(*r4pb.Bundle)
	if !ok {
		return nil, &Error{Status: http.StatusUnprocessableEntity, Issues: []Issue{
			NewIssue(SeverityError, IssueNotSupported, "expected a Bundle, got "+res.Type, "resourceType")},
			reasons: []string{"resourceType: expected a Bundle"}}
	}
	var shell struct {
		Entry []struct {
			Resource json.RawMessage `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(raw, &shell); err != nil || len(shell.Entry) != len(msg.GetEntry()) {
		return nil, &Error{Status: http.StatusBadRequest, Issues: []Issue{
			NewIssue(SeverityError, IssueStructure, "entries could not be read", "Bundle.entry")},
			reasons: []string{"Bundle.entry: entries could not be read"}}
	}
	b := &Bundle{Type: codeOf(msg.GetType()), Msg: msg, Raw: raw}
	var issues []Issue
	for i, e := range msg.GetEntry() {
		entry := bundleEntry(i, e, shell.Entry[i].Resource)
		if entry.Method == "" && (b.Type == "transaction" || b.Type == "batch") {
			issues = append(issues, NewIssue(SeverityError, IssueRequired,
				"transaction and batch entries need a request",
				fmt.Sprintf("Bundle.entry[%d].request", i)))
		}
		b.Entries = append(b.Entries, entry)
	}
	if len(issues) > 0 {
		return nil, &Error{Status: http.StatusUnprocessableEntity, Issues: issues}
	}
	return b, nil
}

// bundleEntry extracts one entry; raw is its resource JSON, if any.
func bundleEntry(i int, e *r4pb.Bundle_Entry, raw json.RawMessage) Entry {
	req := e.GetRequest()
	entry := Entry{
		Index:       i,
		FullURL:     e.GetFullUrl().GetValue(),
		Method:      codeOf(req.GetMethod()),
		URL:         req.GetUrl().GetValue(),
		IfNoneExist: req.GetIfNoneExist().GetValue(),
		IfMatch:     req.GetIfMatch().GetValue(),
		IfNoneMatch: req.GetIfNoneMatch().GetValue(),
	}
	if msg := Unwrap(e.GetResource()); msg != nil {
		entry.Resource = &Resource{
			Type: string(msg.ProtoReflect().Descriptor().Name()),
			ID:   resourceID(msg),
			Msg:  msg,
			Raw:  raw,
		}
	}
	return entry
}
