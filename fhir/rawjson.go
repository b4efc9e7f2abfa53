package fhir

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// InstantLayout formats a time as an R4 instant with millisecond precision.
const InstantLayout = "2006-01-02T15:04:05.000Z07:00"

// span is a byte range of raw JSON and its replacement.
type span struct {
	start, end int
	repl       []byte
}

// frame is one open JSON container during a token scan.
type frame struct {
	obj     bool
	wantKey bool
	key     string
}

// scanFunc sees each scalar value or container start with its key (if in an
// object), depth (1 = top-level members) and the byte offset where the value
// starts and ends (containers: just past the opening delimiter).
type scanFunc func(key string, depth int, tok json.Token, start, end int) error

// scanJSON walks raw's tokens, calling fn for each value.
func scanJSON(raw []byte, fn scanFunc) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var stack []frame
	prev := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		end := int(dec.InputOffset())
		start := prev + valueStart(raw[prev:end])
		prev = end
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			continue
		}
		key := ""
		if n := len(stack); n > 0 && stack[n-1].obj {
			top := &stack[n-1]
			if top.wantKey {
				top.key, top.wantKey = tok.(string), false
				continue
			}
			key, top.wantKey = top.key, true
		}
		if err := fn(key, len(stack), tok, start, end); err != nil {
			return err
		}
		if d, ok := tok.(json.Delim); ok {
			stack = append(stack, frame{obj: d == '{', wantKey: d == '{'})
		}
	}
}

// valueStart skips whitespace, ':' and ',' before a token.
func valueStart(b []byte) int {
	for i, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n', ':', ',':
		default:
			return i
		}
	}
	return len(b)
}

// splice applies non-overlapping spans, in order, to raw.
func splice(raw []byte, spans []span) []byte {
	if len(spans) == 0 {
		return raw
	}
	var out bytes.Buffer
	out.Grow(len(raw) + 64)
	last := 0
	for _, s := range spans {
		out.Write(raw[last:s.start])
		out.Write(s.repl)
		last = s.end
	}
	out.Write(raw[last:])
	return out.Bytes()
}

// jsonString encodes s as a JSON string without HTML escaping.
func jsonString(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// RewriteReferencesJSON rewrites every Reference.reference string in raw
// JSON (every "reference" member whose value is a string) through fn,
// leaving all other bytes exactly as they were.
func RewriteReferencesJSON(raw []byte, fn func(ref string) (string, bool)) ([]byte, error) {
	var spans []span
	err := scanJSON(raw, func(key string, _ int, tok json.Token, start, end int) error {
		s, ok := tok.(string)
		if key != "reference" || !ok {
			return nil
		}
		if n, ok := fn(s); ok && n != s {
			spans = append(spans, span{start, end, jsonString(n)})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("fhir.RewriteReferencesJSON: %w", err)
	}
	return splice(raw, spans), nil
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

// SetMeta returns raw (a resource's JSON as received) with meta.versionId and
// meta.lastUpdated set, as it should be served. It edits the JSON text rather
// than re-marshalling the proto, so everything the client sent (element
// order, extensions, other meta members) is kept, and it costs one
// encoding/json token scan, not a validating parse.
func SetMeta(raw []byte, versionID string, lastUpdated time.Time) ([]byte, error) {
	meta := map[string]json.RawMessage{}
	var spans []span
	depth1End := -1
	err := scanJSON(raw, func(key string, depth int, tok json.Token, start, end int) error {
		if d, ok := tok.(json.Delim); ok && d == '{' && depth == 0 {
			depth1End = end // just past the top-level '{'
		}
		if depth != 1 || key != "meta" {
			return nil
		}
		if d, ok := tok.(json.Delim); !ok || d != '{' {
			return fmt.Errorf("meta is not an object")
		}
		mEnd, err := objectEnd(raw, start)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(raw[start:mEnd], &meta); err != nil {
			return err
		}
		spans = append(spans, span{start: start, end: mEnd})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("fhir.SetMeta: %w", err)
	}
	if depth1End < 0 {
		return nil, fmt.Errorf("fhir.SetMeta: not a JSON object")
	}
	meta["versionId"] = jsonString(versionID)
	meta["lastUpdated"] = jsonString(lastUpdated.UTC().Format(InstantLayout))
	mb, err := json.Marshal(meta)
	if err != nil {
		return nil, fmt.Errorf("fhir.SetMeta: %w", err)
	}
	if len(spans) == 1 {
		spans[0].repl = mb
		return splice(raw, spans), nil
	}
	ins := append([]byte(`"meta":`), mb...)
	if !emptyObject(raw[depth1End:]) {
		ins = append(ins, ',')
	}
	return splice(raw, []span{{start: depth1End, end: depth1End, repl: ins}}), nil
}

// objectEnd returns the offset just past the JSON value starting at start.
func objectEnd(raw []byte, start int) (int, error) {
	dec := json.NewDecoder(bytes.NewReader(raw[start:]))
	var v json.RawMessage
	if err := dec.Decode(&v); err != nil {
		return 0, err
	}
	return start + int(dec.InputOffset()), nil
}

// emptyObject reports whether b (the bytes after an object's '{') starts
// with the closing '}'.
func emptyObject(b []byte) bool {
	i := valueStart(b)
	return i < len(b) && b[i] == '}'
}
