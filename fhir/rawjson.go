package fhir

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"
)

// InstantLayout formats a time as an R4 instant with millisecond precision.
const InstantLayout = "2006-01-02T15:04:05.000Z07:00"

// The raw JSON edits (RewriteReferencesJSON, SetMeta, SetID) and
// ParseBundle's cut of each entry's resource change or copy a few values of
// a JSON text and keep every other byte as it was. They find those values
// with scanJSON, a walk over a pooled jsontext.Decoder that parses the input
// in place without allocating, and that reads what an edit need not look
// into (for SetMeta and SetID, each top-level member) as one raw value.
//
// The input must be exactly one JSON value, optionally surrounded by
// whitespace. Anything else (a truncated document, trailing data, a
// container nested more than 10000 deep, ...) is an error and nothing is
// edited, though RewriteReferencesJSON may have called its fn for the
// references before the error. Within that value jsontext accepts what
// encoding/json accepts: duplicate member names and invalid UTF-8 in
// strings, which are decoded as encoding/json decodes them. On such input
// the results are byte for byte those of the encoding/json token walk these
// functions used before (kept in rawjson_reference_test.go to check), except
// that SetID now replaces a top-level "id" that is not a string whole.
var jsontextOptions = []jsontext.Options{
	jsontext.AllowDuplicateNames(true),
	jsontext.AllowInvalidUTF8(true),
}

// scanEvent is one JSON value seen by scanJSON.
type scanEvent struct {
	depth      int           // enclosing containers: 0 for the top-level value
	key        []byte        // the member name, quoted as in the input; nil if not a member
	kind       jsontext.Kind // '{', '[', '"', '0' (number), 'n', 't' or 'f'
	start, end int           // the value; for a container scanJSON goes into, its '{' or '['
}

// keyIs reports whether the event's member name, decoded, is name (which
// must be non-empty ASCII).
func (ev scanEvent) keyIs(name string) bool {
	q := ev.key
	if len(q) == len(name)+2 && string(q[1:len(q)-1]) == name {
		return true
	}
	// Without escapes the decoded name differs from the raw one only where
	// invalid UTF-8 becomes U+FFFD, which no ASCII name contains.
	return bytes.IndexByte(q, '\\') >= 0 && unquoteJSON(q) == name
}

// str returns the decoded value of a string event found in raw.
func (ev scanEvent) str(raw []byte) string {
	body := raw[ev.start+1 : ev.end-1]
	if bytes.IndexByte(body, '\\') < 0 && utf8.Valid(body) {
		return string(body)
	}
	return unquoteJSON(raw[ev.start:ev.end])
}

// unquoteJSON decodes a valid JSON string literal exactly as encoding/json
// does (invalid UTF-8 and unpaired surrogates become U+FFFD).
func unquoteJSON(q []byte) string {
	var s string
	_ = json.Unmarshal(q, &s)
	return s
}

// scanner is a jsontext.Decoder reading a bytes.Buffer, which it parses in
// place instead of copying it.
type scanner struct {
	in  bytes.Buffer
	dec jsontext.Decoder
}

var scannerPool = sync.Pool{New: func() any { return new(scanner) }}

// scanJSON checks that raw is one JSON value and calls fn for each value in
// it, in document order, down to depth maxDepth: containers at maxDepth are
// passed to fn whole and not gone into. An error from fn ends the walk and
// is returned.
func scanJSON(raw []byte, maxDepth int, fn func(scanEvent) error) error {
	s := scannerPool.Get().(*scanner)
	defer func() {
		s.in = bytes.Buffer{} // keep no input alive in the pool
		s.dec.Reset(&s.in)
		scannerPool.Put(s)
	}()
	s.in = *bytes.NewBuffer(raw)
	d := &s.dec
	d.Reset(&s.in, jsontextOptions...)
	for {
		ev := scanEvent{depth: d.StackDepth()}
		if k := d.PeekKind(); k == '}' || k == ']' {
			if _, err := d.ReadToken(); err != nil {
				return err
			}
		} else {
			if k, _ := d.StackIndex(ev.depth); k == '{' {
				name, err := d.ReadValue()
				if err != nil {
					return err
				}
				end := int(d.InputOffset())
				ev.key = raw[end-len(name) : end]
			}
			ev.kind = d.PeekKind()
			n, err := 1, error(nil)
			if (ev.kind == '{' || ev.kind == '[') && ev.depth < maxDepth {
				_, err = d.ReadToken() // fn sees the contents next
			} else {
				var v jsontext.Value
				v, err = d.ReadValue()
				n = len(v)
			}
			if err == io.EOF {
				err = io.ErrUnexpectedEOF // no value at all
			}
			if err != nil {
				return err
			}
			ev.end = int(d.InputOffset())
			ev.start = ev.end - n
			if err := fn(ev); err != nil {
				return err
			}
		}
		if d.StackDepth() == 0 { // the value is complete: nothing may follow
			if _, err := d.ReadToken(); err != io.EOF {
				return cmp.Or(err, errors.New("more than one JSON value"))
			}
			return nil
		}
	}
}

// span is a byte range of raw JSON and its replacement.
type span struct {
	start, end int
	repl       []byte
}

// splice applies non-overlapping spans, in order, to raw.
func splice(raw []byte, spans ...span) []byte {
	n := len(raw)
	for _, s := range spans {
		n += len(s.repl) - (s.end - s.start)
	}
	out := make([]byte, 0, n)
	last := 0
	for _, s := range spans {
		out = append(append(out, raw[last:s.start]...), s.repl...)
		last = s.end
	}
	return append(out, raw[last:]...)
}

// jsonString encodes s as a JSON string exactly as an encoding/json Encoder
// with SetEscapeHTML(false) does.
func jsonString(s string) []byte {
	plain := true // printable ASCII other than '"' and '\\' is written as is
	for i := 0; i < len(s) && plain; i++ {
		plain = 0x20 <= s[i] && s[i] < utf8.RuneSelf && s[i] != '"' && s[i] != '\\'
	}
	if plain {
		return append(append(append(make([]byte, 0, len(s)+2), '"'), s...), '"')
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // never fails for a string
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// RewriteReferencesJSON rewrites every Reference.reference string in raw
// JSON (every "reference" member whose value is a string) through fn,
// leaving all other bytes exactly as they were.
func RewriteReferencesJSON(raw []byte, fn func(ref string) (string, bool)) ([]byte, error) {
	var spans []span
	err := scanJSON(raw, math.MaxInt, func(ev scanEvent) error {
		if ev.kind == '"' && ev.keyIs("reference") {
			s := ev.str(raw)
			if n, ok := fn(s); ok && n != s {
				spans = append(spans, span{ev.start, ev.end, jsonString(n)})
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("fhir.RewriteReferencesJSON: %w", err)
	}
	if len(spans) == 0 {
		return raw, nil
	}
	return splice(raw, spans...), nil
}

// RewriteReferences rewrites the references of both r.Msg and r.Raw through
// fn, so the stored JSON and the parsed proto stay in step.
func (r *Resource) RewriteReferences(fn func(ref string) (string, bool)) error {
	if err := RewriteReferences(r.Msg, fn); err != nil {
		return err
	}
	raw, err := RewriteReferencesJSON(r.Raw, fn)
	if err != nil {
		return err
	}
	r.Raw = raw
	return nil
}

// setTopMember returns raw, a JSON object, with its member name set to
// the value val makes of the values of the members so named: one such
// member has its value replaced, otherwise "name":value is inserted as the
// first member.
func setTopMember(raw []byte, name string, val func(old []span) ([]byte, error)) ([]byte, error) {
	var old []span
	open, members := 0, 0
	err := scanJSON(raw, 1, func(ev scanEvent) error {
		switch {
		case ev.depth == 0 && ev.kind != '{':
			return errors.New("not a JSON object")
		case ev.depth == 0:
			open = ev.end
		default:
			members++
			if ev.keyIs(name) {
				old = append(old, span{start: ev.start, end: ev.end})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	v, err := val(old)
	if err != nil {
		return nil, err
	}
	if len(old) == 1 {
		return splice(raw, span{old[0].start, old[0].end, v}), nil
	}
	sep := ""
	if members > 0 {
		sep = ","
	}
	return splice(raw, span{open, open, slices.Concat([]byte(`"`+name+`":`), v, []byte(sep))}), nil
}

// SetMeta returns raw (a resource's JSON as received) with meta.versionId and
// meta.lastUpdated set, as it should be served. It edits the JSON text rather
// than re-marshalling the proto, so everything the client sent (element
// order, extensions, other meta members) is kept, and it costs one scan of
// the top level, not a validating parse.
func SetMeta(raw []byte, versionID string, lastUpdated time.Time) ([]byte, error) {
	out, err := setTopMember(raw, "meta", func(metas []span) ([]byte, error) {
		return metaObject(raw, metas, versionID, lastUpdated)
	})
	if err != nil {
		return nil, fmt.Errorf("fhir.SetMeta: %w", err)
	}
	return out, nil
}

// metaObject returns the meta object SetMeta writes: what json.Marshal makes
// of a map[string]json.RawMessage into which the objects at metas were
// decoded in turn before versionId and lastUpdated were set. That is all
// their members (of those with the same name, the last) sorted by name,
// with values compacted and '<', '>', '&', U+2028 and U+2029 escaped. The
// usual meta, with no other members (none at all, or one SetMeta wrote), is
// written directly.
func metaObject(raw []byte, metas []span, versionID string, lastUpdated time.Time) ([]byte, error) {
	vid := jsonString(versionID)
	lu := append(lastUpdated.UTC().AppendFormat([]byte{'"'}, InstantLayout), '"')
	direct := !strings.ContainsAny(versionID, "<>&") // else json.Marshal escapes more
	for _, m := range metas {
		if raw[m.start] != '{' {
			return nil, errors.New("meta is not an object")
		}
		_ = scanJSON(raw[m.start:m.end], 1, func(ev scanEvent) error { // valid: raw was scanned
			direct = direct && (ev.depth == 0 || ev.keyIs("versionId") || ev.keyIs("lastUpdated"))
			return nil
		})
	}
	if direct {
		return slices.Concat([]byte(`{"lastUpdated":`), lu, []byte(`,"versionId":`), vid, []byte("}")), nil
	}
	meta := map[string]json.RawMessage{}
	for _, m := range metas {
		if err := json.Unmarshal(raw[m.start:m.end], &meta); err != nil {
			return nil, err
		}
	}
	meta["versionId"], meta["lastUpdated"] = vid, lu
	return json.Marshal(meta)
}
