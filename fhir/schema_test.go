package fhir

import (
	"testing"
)

func TestValidateSchema(t *testing.T) {
	for _, name := range []string{"Claim-MED-00050.json", "Claim-100150.json", "Encounter-f202.json"} {
		if err := ValidateSchema(example(t, name)); err != nil {
			t.Errorf("ValidateSchema(%s) = %v", name, err)
		}
	}
	// A Claim we marshal ourselves validates too.
	res := mustParse(t, "Claim-MED-00050.json")
	out, err := Marshal(res.Msg)
	if err != nil {
		t.Fatal(err)
	}
	if err := ValidateSchema(out); err != nil {
		t.Errorf("ValidateSchema(marshalled Claim) = %v", err)
	}
	bad := []byte(`{"resourceType":"Claim","status":"active","use":"claim","created":"nope","bogus":1}`)
	err = ValidateSchema(bad)
	e, ok := AsError(err)
	if !ok || e.Status != 422 || len(e.Issues) == 0 {
		t.Fatalf("ValidateSchema(bad) = %v", err)
	}
	if err := ValidateSchema([]byte(`{`)); err == nil {
		t.Error("ValidateSchema(malformed) succeeded")
	}
}
