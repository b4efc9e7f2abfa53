package v2fhir_test

import (
	"encoding/json"
	"testing"

	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping/v2fhir"
)

// An ADT's DG1 list replaces the prior one: Conditions it no longer names
// are withdrawn (DELETE), except the admitting diagnosis and Conditions
// this mapping did not make.
func TestDroppedDiagnosesWithdrawn(t *testing.T) {
	msg := parse(t, readMessage(t, "adt-a03"))
	prior := &v2fhir.Prior{Status: "in-progress", Diagnoses: []fhir.Diagnosis{
		{Condition: "Condition/v2-ruledout"},
		{Condition: "Condition/v2-admitting", Use: fhir.Concept{Codings: []fhir.Coding{{System: "http://terminology.hl7.org/CodeSystem/diagnosis-role", Code: "AD"}}}},
		{Condition: "Condition/from-fhir-push"},
	}}
	res, err := v2fhir.Map(msg, opts, prior)
	if err != nil {
		t.Fatal(err)
	}
	var b struct {
		Entry []struct {
			Request struct{ Method, URL string } `json:"request"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(res.Bundle, &b); err != nil {
		t.Fatal(err)
	}
	var deletes []string
	for _, e := range b.Entry {
		if e.Request.Method == "DELETE" {
			deletes = append(deletes, e.Request.URL)
		}
	}
	if len(deletes) != 1 || deletes[0] != "Condition/v2-ruledout" {
		t.Errorf("DELETE entries %v, want only Condition/v2-ruledout", deletes)
	}
	plan(t, res.Bundle) // still a valid transaction for the POST /fhir path
	// A DFT keeps the prior list: nothing withdrawn.
	dft, err := v2fhir.Map(parse(t, readMessage(t, "dft-p03")), opts, prior)
	if err != nil {
		t.Fatal(err)
	}
	if json.Unmarshal(dft.Bundle, &b); len(b.Entry) > 0 {
		for _, e := range b.Entry {
			if e.Request.Method == "DELETE" {
				t.Errorf("DFT withdrew %s", e.Request.URL)
			}
		}
	}
}
