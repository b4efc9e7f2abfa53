package fhir

// This file keeps a verbatim copy of the encoding/json based implementation
// of the raw JSON edits as it was before the jsontext rewrite (only renamed),
// so the differential tests and benchmarks can compare the two.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

type referenceFrame struct {
	obj     bool
	wantKey bool
	key     string
}

func valueStartReference(b []byte) int {
	for i, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n', ':', ',':
		default:
			return i
		}
	}
	return len(b)
}

func emptyObjectReference(b []byte) bool {
	i := valueStartReference(b)
	return i < len(b) && b[i] == '}'
}

type referenceScanFunc func(key string, depth int, tok json.Token, start, end int) error

func scanJSONReference(raw []byte, fn referenceScanFunc) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var stack []referenceFrame
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
		start := prev + valueStartReference(raw[prev:end])
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
			stack = append(stack, referenceFrame{obj: d == '{', wantKey: d == '{'})
		}
	}
}

func spliceReference(raw []byte, spans []span) []byte {
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

func jsonStringReference(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

func rewriteReferencesJSONReference(raw []byte, fn func(ref string) (string, bool)) ([]byte, error) {
	var spans []span
	err := scanJSONReference(raw, func(key string, _ int, tok json.Token, start, end int) error {
		s, ok := tok.(string)
		if key != "reference" || !ok {
			return nil
		}
		if n, ok := fn(s); ok && n != s {
			spans = append(spans, span{start, end, jsonStringReference(n)})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("fhir.RewriteReferencesJSON: %w", err)
	}
	return spliceReference(raw, spans), nil
}

func setMetaReference(raw []byte, versionID string, lastUpdated time.Time) ([]byte, error) {
	meta := map[string]json.RawMessage{}
	var spans []span
	depth1End := -1
	err := scanJSONReference(raw, func(key string, depth int, tok json.Token, start, end int) error {
		if d, ok := tok.(json.Delim); ok && d == '{' && depth == 0 {
			depth1End = end // just past the top-level '{'
		}
		if depth != 1 || key != "meta" {
			return nil
		}
		if d, ok := tok.(json.Delim); !ok || d != '{' {
			return fmt.Errorf("meta is not an object")
		}
		mEnd, err := objectEndReference(raw, start)
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
	meta["versionId"] = jsonStringReference(versionID)
	meta["lastUpdated"] = jsonStringReference(lastUpdated.UTC().Format(InstantLayout))
	mb, err := json.Marshal(meta)
	if err != nil {
		return nil, fmt.Errorf("fhir.SetMeta: %w", err)
	}
	if len(spans) == 1 {
		spans[0].repl = mb
		return spliceReference(raw, spans), nil
	}
	ins := append([]byte(`"meta":`), mb...)
	if !emptyObjectReference(raw[depth1End:]) {
		ins = append(ins, ',')
	}
	return spliceReference(raw, []span{{start: depth1End, end: depth1End, repl: ins}}), nil
}

func objectEndReference(raw []byte, start int) (int, error) {
	dec := json.NewDecoder(bytes.NewReader(raw[start:]))
	var v json.RawMessage
	if err := dec.Decode(&v); err != nil {
		return 0, err
	}
	return start + int(dec.InputOffset()), nil
}

func setIDReference(raw []byte, id string) ([]byte, error) {
	var spans []span
	open := -1
	err := scanJSONReference(raw, func(key string, depth int, tok json.Token, start, end int) error {
		if d, ok := tok.(json.Delim); ok && d == '{' && depth == 0 {
			open = end
		}
		if depth == 1 && key == "id" {
			spans = append(spans, span{start: start, end: end, repl: jsonStringReference(id)})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("fhir.SetID: %w", err)
	}
	if open < 0 {
		return nil, fmt.Errorf("fhir.SetID: not a JSON object")
	}
	if len(spans) == 1 {
		return spliceReference(raw, spans), nil
	}
	ins := append([]byte(`"id":`), jsonStringReference(id)...)
	if !emptyObjectReference(raw[open:]) {
		ins = append(ins, ',')
	}
	return spliceReference(raw, []span{{start: open, end: open, repl: ins}}), nil
}

// entryResourcesReference is ParseBundle's old cut of each entry's raw
// resource JSON.
func entryResourcesReference(raw []byte) ([]json.RawMessage, error) {
	var shell struct {
		Entry []struct {
			Resource json.RawMessage `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(raw, &shell); err != nil {
		return nil, err
	}
	out := make([]json.RawMessage, len(shell.Entry))
	for i, e := range shell.Entry {
		out[i] = e.Resource
	}
	return out, nil
}
