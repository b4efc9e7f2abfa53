package fhir

import "fmt"

// SetID returns raw (a resource's JSON) with its top-level "id" set to id,
// replacing a client-sent id (of any JSON type) or inserting one right after
// the opening brace; everything else is kept byte for byte. Servers assign
// ids on create.
func SetID(raw []byte, id string) ([]byte, error) {
	out, err := setTopMember(raw, "id", func([]span) ([]byte, error) { return jsonString(id), nil })
	if err != nil {
		return nil, fmt.Errorf("fhir.SetID: %w", err)
	}
	return out, nil
}
