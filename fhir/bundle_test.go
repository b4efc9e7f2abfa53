package fhir

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseBundleTransaction(t *testing.T) {
	raw := example(t, "Bundle-bundle-transaction.json")
	b, err := parser(t).ParseBundle(raw)
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ FullURL, Method, URL, IfNoneExist, IfMatch, IfNoneMatch, Type string }
	var got []row
	for _, e := range b.Entries {
		r := row{e.FullURL, e.Method, e.URL, e.IfNoneExist, e.IfMatch, e.IfNoneMatch, ""}
		if e.Resource != nil {
			r.Type = e.Resource.Type
		}
		got = append(got, r)
	}
	want := []row{
		{"urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a", "POST", "Patient", "", "", "", "Patient"},
		{"urn:uuid:88f151c0-a954-468a-88bd-5ae15c08e059", "POST", "Patient", "identifier=http:/example.org/fhir/ids|234234", "", "", "Patient"},
		{"http://example.org/fhir/Patient/123", "PUT", "Patient/123", "", "", "", "Patient"},
		{"urn:uuid:74891afc-ed52-42a2-bcd7-f13d9b60f096", "PUT", "Patient?identifier=http:/example.org/fhir/ids|456456", "", "", "", "Patient"},
		{"http://example.org/fhir/Patient/123a", "PUT", "Patient/123a", "", `W/"2"`, "", "Patient"},
		{"", "DELETE", "Patient/234", "", "", "", ""},
		{"", "DELETE", "Patient?identifier=123456", "", "", "", ""},
		{"urn:uuid:79378cb8-8f58-48e8-a5e8-60ac2755b674", "POST", "ValueSet/$lookup", "", "", "", "Parameters"},
		{"", "GET", "Patient?name=peter", "", "", "", ""},
		{"", "GET", "Patient/12334", "", "", `W/"4"`, ""},
	}
	if b.Type != "transaction" {
		t.Errorf("Type = %q, want transaction", b.Type)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("entries mismatch (-want +got):\n%s", diff)
	}
	// Each entry's Raw is its own resource JSON: it parses alone to the same resource.
	for _, e := range b.Entries {
		if e.Resource == nil {
			continue
		}
		alone, err := parser(t).Parse(e.Resource.Raw)
		if err != nil {
			t.Fatalf("entry %d Raw does not parse: %v", e.Index, err)
		}
		if diff := cmp.Diff(References(e.Resource.Msg), References(alone.Msg)); diff != "" || alone.ID != e.Resource.ID {
			t.Errorf("entry %d Raw differs from Msg (-msg +raw):\n%s", e.Index, diff)
		}
	}
}

func TestParseBundleErrors(t *testing.T) {
	tests := []struct {
		name, in   string
		status     int
		code, expr string
	}{
		{"entry 3 bad status", `{"resourceType":"Bundle","type":"transaction","entry":[
			{"request":{"method":"DELETE","url":"Patient/1"}},{"request":{"method":"DELETE","url":"Patient/2"}},
			{"request":{"method":"DELETE","url":"Patient/3"}},
			{"fullUrl":"urn:uuid:1","resource":{"resourceType":"Encounter","status":"bogus","class":{"code":"AMB"}},"request":{"method":"POST","url":"Encounter"}}]}`,
			422, IssueCodeInvalid, "Bundle.entry[3].resource.status"},
		{"missing request", `{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Patient"}}]}`,
			422, IssueRequired, "Bundle.entry[0].request"},
		{"not a bundle", `{"resourceType":"Patient"}`, 422, IssueNotSupported, "resourceType"},
		{"malformed", `{"resourceType":"Bundle",`, 400, IssueStructure, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parser(t).ParseBundle([]byte(tt.in))
			checkError(t, err, tt.status, tt.code, tt.expr)
		})
	}
}
