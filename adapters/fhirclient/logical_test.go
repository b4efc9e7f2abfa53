package fhirclient

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/codebridge/codebridge/mapping/workitem"
)

func TestLogicalReferences(t *testing.T) {
	raw := `{"resourceType":"Claim","total":{"value":10.50},
"patient":{"reference":"Patient/p1","display":"x"},
"provider":{"reference":"Organization/o1","identifier":{"system":"http://hl7.org/fhir/sid/us-npi","value":"1234567893"}},
"insurance":[{"sequence":1,"focal":true,"coverage":{"reference":"Coverage/c1"}}],
"related":[{"claim":{"reference":"Claim/prior"}}],
"careTeam":[{"provider":{"reference":"Practitioner/unknown"}}],
"referral":{"reference":"https://elsewhere.example/ServiceRequest/1"}}`
	ids := map[string]workitem.Identifier{
		"Patient/p1":  {System: "urn:oid:1.2.3", Value: "MRN7"},
		"Coverage/c1": {System: "urn:payer", Value: "W123"},
		"Claim/prior": {System: "urn:codebridge:claim", Value: "wi-1-v3"},
	}
	out, err := LogicalReferences([]byte(raw), ids)
	if err != nil {
		t.Fatal(err)
	}
	var got, want map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal([]byte(`{"resourceType":"Claim","total":{"value":10.50},
"patient":{"type":"Patient","identifier":{"system":"urn:oid:1.2.3","value":"MRN7"},"display":"x"},
"provider":{"type":"Organization","identifier":{"system":"http://hl7.org/fhir/sid/us-npi","value":"1234567893"}},
"insurance":[{"sequence":1,"focal":true,"coverage":{"type":"Coverage","identifier":{"system":"urn:payer","value":"W123"}}}],
"related":[{"claim":{"type":"Claim","identifier":{"system":"urn:codebridge:claim","value":"wi-1-v3"}}}],
"careTeam":[{"provider":{"type":"Practitioner","identifier":{"system":"urn:codebridge:Practitioner","value":"unknown"}}}],
"referral":{"reference":"https://elsewhere.example/ServiceRequest/1"}}`), &want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	if string(out) == "" || !json.Valid(out) {
		t.Fatal("invalid JSON")
	}
	if _, err := LogicalReferences([]byte("{"), nil); err == nil {
		t.Error("bad JSON accepted")
	}
}
