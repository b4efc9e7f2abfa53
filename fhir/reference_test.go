package fhir

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseReference(t *testing.T) {
	tests := []struct {
		in      string
		want    Reference
		wantErr bool
	}{
		{in: "Encounter/123", want: Reference{Type: "Encounter", ID: "123"}},
		{in: "Patient/p1/_history/3", want: Reference{Type: "Patient", ID: "p1", Version: "3"}},
		{in: "https://ehr.example/fhir/Patient/p1", want: Reference{Base: "https://ehr.example/fhir", Type: "Patient", ID: "p1"}},
		{in: "http://x.org/fhir/Encounter/e.1/_history/2", want: Reference{Base: "http://x.org/fhir", Type: "Encounter", ID: "e.1", Version: "2"}},
		{in: "urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a", want: Reference{URN: "urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a"}},
		{in: "#home", want: Reference{Fragment: "home"}},
		{in: "Encounter", wantErr: true},
		{in: "Foo/1", wantErr: true},
		{in: "Patient/a b", wantErr: true},
		{in: "x/Patient/1", wantErr: true},
		{in: "urn:uuid:", wantErr: true},
		{in: "Patient/1/_history/", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseReference(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseReference(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseReference(%q) mismatch (-want +got):\n%s", tt.in, diff)
		}
		if err == nil && got.String() != tt.in {
			t.Errorf("String() = %q, want %q", got.String(), tt.in)
		}
	}
}

func TestReferences(t *testing.T) {
	res := mustParse(t, "Encounter-f202.json")
	want := []string{"Practitioner/f201", "Organization/f201", "Patient/f201"}
	got := References(res.Msg)
	if diff := cmp.Diff(want, got, sortStrings); diff != "" {
		t.Errorf("References mismatch (-want +got):\n%s", diff)
	}
}

var sortStrings = cmp.Transformer("sort", func(in []string) []string {
	out := append([]string(nil), in...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
})

func TestRewriteReferences(t *testing.T) {
	raw := []byte(`{"resourceType":"Encounter","status":"finished","class":{"code":"AMB"},
 "subject":{"reference":"urn:uuid:11111111-1111-1111-1111-111111111111"},
 "contained":[{"resourceType":"Condition","id":"c1","subject":{"reference":"urn:uuid:11111111-1111-1111-1111-111111111111"}}],
 "participant":[{"individual":{"reference":"Practitioner/p9","display":"Dr"}}],
 "serviceProvider":{"reference":"http://ehr/fhir/Organization/o1/_history/2"},
 "diagnosis":[{"condition":{"reference":"#c1"}}]}`)
	res, err := parser(t).Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{"urn:uuid:11111111-1111-1111-1111-111111111111": "Patient/42"}
	if err := res.RewriteReferences(func(ref string) (string, bool) {
		n, ok := ids[ref]
		return n, ok
	}); err != nil {
		t.Fatal(err)
	}
	want := []string{"Patient/42", "Patient/42", "Practitioner/p9", "http://ehr/fhir/Organization/o1/_history/2", "#c1"}
	if diff := cmp.Diff(want, References(res.Msg), sortStrings); diff != "" {
		t.Errorf("References after rewrite mismatch (-want +got):\n%s", diff)
	}
	if strings.Contains(string(res.Raw), "urn:uuid") || strings.Count(string(res.Raw), `"Patient/42"`) != 2 {
		t.Errorf("Raw not rewritten: %s", res.Raw)
	}
	if !strings.Contains(string(res.Raw), "\n \"participant\"") {
		t.Errorf("Raw formatting not kept: %s", res.Raw)
	}
	again, err := parser(t).Parse(res.Raw)
	if err != nil {
		t.Fatalf("rewritten raw does not parse: %v", err)
	}
	if diff := cmp.Diff(References(again.Msg), References(res.Msg), sortStrings); diff != "" {
		t.Errorf("raw and proto disagree (-raw +proto):\n%s", diff)
	}
	enc, _ := EncounterOf(res)
	if enc.Subject != "Patient/42" {
		t.Errorf("Subject = %q, want Patient/42", enc.Subject)
	}
}
