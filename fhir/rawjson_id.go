package fhir

import (
	"encoding/json"
	"fmt"
)

// SetID returns raw (a resource's JSON) with its top-level "id" set to id,
// replacing a client-sent id or inserting one right after the opening brace;
// everything else is kept byte for byte. Servers assign ids on create.
func SetID(raw []byte, id string) ([]byte, error) {
	var spans []span
	open := -1
	err := scanJSON(raw, func(key string, depth int, tok json.Token, start, end int) error {
		if d, ok := tok.(json.Delim); ok && d == '{' && depth == 0 {
			open = end
		}
		if depth == 1 && key == "id" {
			spans = append(spans, span{start: start, end: end, repl: jsonString(id)})
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
		return splice(raw, spans), nil
	}
	ins := append([]byte(`"id":`), jsonString(id)...)
	if !emptyObject(raw[open:]) {
		ins = append(ins, ',')
	}
	return splice(raw, []span{{start: open, end: open, repl: ins}}), nil
}
