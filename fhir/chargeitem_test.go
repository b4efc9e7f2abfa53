package fhir

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestChargeItemOf(t *testing.T) {
	tests := []struct {
		name string
		json string
		want ChargeItem
	}{
		{
			name: "charge line with modifiers, quantity and reasons",
			json: `{"resourceType":"ChargeItem","id":"c1",
				"extension":[
					{"url":"` + ExtensionChargeItemModifier + `","valueCoding":{"system":"` + SystemCPT + `","code":"25"}},
					{"url":"http://example.org/other","valueString":"ignored"},
					{"url":"` + ExtensionChargeItemModifier + `","valueCodeableConcept":{"coding":[{"system":"` + SystemHCPCS + `","code":"GT"}]}},
					{"url":"` + ExtensionChargeItemModifier + `","valueCode":"59"}],
				"identifier":[{"system":"urn:example:ft1","value":"T-1"}],
				"status":"billable",
				"code":{"coding":[{"system":"` + SystemCPT + `","code":"99213","display":"Office visit"}]},
				"subject":{"reference":"Patient/p1"},
				"context":{"reference":"Encounter/e1"},
				"occurrenceDateTime":"2026-03-10T14:00:00Z",
				"quantity":{"value":2},
				"reason":[{"coding":[{"system":"` + SystemICD10CM + `","code":"J20.9"}]}],
				"service":[{"reference":"Procedure/pr1"}]}`,
			want: ChargeItem{
				ID: "c1", Identifiers: []Identifier{{"urn:example:ft1", "T-1"}}, Status: "billable",
				Subject: "Patient/p1", Context: "Encounter/e1",
				Code:       Concept{Codings: []Coding{{SystemCPT, "99213", "Office visit"}}},
				Modifiers:  []Coding{{System: SystemCPT, Code: "25"}, {System: SystemHCPCS, Code: "GT"}, {Code: "59"}},
				Quantity:   2,
				Occurrence: Period{Start: time.Date(2026, 3, 10, 14, 0, 0, 0, time.UTC)},
				Reasons:    []Concept{{Codings: []Coding{{System: SystemICD10CM, Code: "J20.9"}}}},
				Services:   []string{"Procedure/pr1"},
			},
		},
		{
			name: "minimal charge with a period",
			json: `{"resourceType":"ChargeItem","status":"planned",
				"code":{"text":"room charge"},
				"subject":{"reference":"Patient/p1"},
				"occurrencePeriod":{"start":"2026-03-10","end":"2026-03-11"},
				"quantity":{"value":1.5}}`,
			want: ChargeItem{
				Status: "planned", Subject: "Patient/p1", Code: Concept{Text: "room charge"}, Quantity: 1.5,
				Occurrence: Period{Start: time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC)},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := parser(t).Parse([]byte(tt.json))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			got, err := ChargeItemOf(res)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := ChargeItemOf(mustParse(t, "Procedure-f201.json")); err == nil {
		t.Error("ChargeItemOf(Procedure) succeeded, want a wrong-type error")
	}
}
