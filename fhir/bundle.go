package fhir

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"unicode/utf8"

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
// cheap jsontext token pass that cuts out each entry's raw resource JSON.
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
	resources, err := entryResources(raw)
	if err != nil || len(resources) != len(msg.GetEntry()) {
		return nil, &Error{Status: http.StatusBadRequest, Issues: []Issue{
			NewIssue(SeverityError, IssueStructure, "entries could not be read", "Bundle.entry")},
			reasons: []string{"Bundle.entry: entries could not be read"}}
	}
	b := &Bundle{Type: codeOf(msg.GetType()), Msg: msg, Raw: raw}
	var issues []Issue
	for i, e := range msg.GetEntry() {
		entry := bundleEntry(i, e, resources[i])
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
func bundleEntry(i int, e *r4pb.Bundle_Entry, raw []byte) Entry {
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

// entryResources returns a copy of each Bundle.entry[i].resource's raw JSON
// (nil for an entry without one), exactly as json.Unmarshal decodes them
// into json.RawMessage fields of a shell struct, and its error when it
// fails. A jsontext scan handles the usual Bundle; anything unusual goes
// through json.Unmarshal itself.
func entryResources(raw []byte) ([][]byte, error) {
	if res, ok := entryResourcesFast(raw); ok {
		return res, nil
	}
	var shell struct {
		Entry []struct {
			Resource json.RawMessage `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(raw, &shell); err != nil {
		return nil, err
	}
	res := make([][]byte, len(shell.Entry))
	for i, e := range shell.Entry {
		res[i] = e.Resource
	}
	return res, nil
}

// errUnusual stops entryResourcesFast's scan.
var errUnusual = errors.New("unusual Bundle")

// entryResourcesFast is entryResources for a valid JSON object with at most
// one "entry" member (matched ignoring ASCII case, as encoding/json matches
// field names), which is an array of objects and nulls. ok is false for
// anything else, including member names with escapes or non-ASCII bytes
// where "entry" and "resource" are looked for.
func entryResourcesFast(raw []byte) (res [][]byte, ok bool) {
	var spans []span // each entry's resource; start -1 for none
	inEntry, sawEntry := false, false
	err := scanJSON(raw, 3, func(ev scanEvent) error {
		switch {
		case ev.depth == 0:
			if ev.kind != '{' {
				return errUnusual
			}
		case ev.depth == 1: // a member of the Bundle
			match, known := foldedNameIs(ev.key, "entry")
			if !known || match && (sawEntry || ev.kind != '[') {
				return errUnusual
			}
			inEntry, sawEntry = match, sawEntry || match
		case !inEntry:
		case ev.depth == 2: // an entry
			if ev.kind != '{' && ev.kind != 'n' {
				return errUnusual
			}
			spans = append(spans, span{start: -1})
		case ev.depth == 3: // a member of an entry
			match, known := foldedNameIs(ev.key, "resource")
			if !known {
				return errUnusual
			}
			if match { // of several, the last wins, as with encoding/json
				spans[len(spans)-1] = span{start: ev.start, end: ev.end}
			}
		}
		return nil
	})
	if err != nil {
		return nil, false
	}
	return copySpans(raw, spans), true
}

// foldedNameIs reports whether the quoted JSON object name q matches name (a
// lower-case ASCII word) the way encoding/json matches a struct field name:
// ignoring ASCII case. known is false when q has escapes or non-ASCII bytes,
// whose folding it leaves to encoding/json.
func foldedNameIs(q []byte, name string) (match, known bool) {
	q = q[1 : len(q)-1]
	for _, c := range q {
		if c == '\\' || c >= utf8.RuneSelf {
			return false, false
		}
	}
	if len(q) != len(name) {
		return false, true
	}
	for i, c := range q {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != name[i] {
			return false, true
		}
	}
	return true, true
}

// copySpans copies raw's spans (start -1: nil) into one new buffer, each
// result capped so that appending to it cannot overwrite the next.
func copySpans(raw []byte, spans []span) [][]byte {
	n := 0
	for _, sp := range spans {
		if sp.start >= 0 {
			n += sp.end - sp.start
		}
	}
	buf := make([]byte, 0, n)
	res := make([][]byte, len(spans))
	for i, sp := range spans {
		if sp.start >= 0 {
			off := len(buf)
			buf = append(buf, raw[sp.start:sp.end]...)
			res[i] = buf[off:len(buf):len(buf)]
		}
	}
	return res
}
