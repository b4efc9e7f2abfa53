package fhir

import (
	"errors"
	"testing"
)

// checkParseResult asserts the invariants every Parse outcome must hold.
func checkParseResult(t *testing.T, raw []byte, res *Resource, err error) {
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("error is %T, not *fhir.Error: %v", err, err)
		}
		if (e.Status != 400 && e.Status != 422) || len(e.Issues) == 0 {
			t.Fatalf("bad Error: status %d, %d issues", e.Status, len(e.Issues))
		}
		if _, perr := parser(t).Parse(OperationOutcome(e.Issues...)); perr != nil {
			t.Fatalf("OperationOutcome does not re-parse: %v", perr)
		}
		return
	}
	if res.Type == "" || res.Msg == nil {
		t.Fatalf("empty resource")
	}
	out, err := Marshal(res.Msg)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	// google/fhir accepts some input it would not emit again validly (an
	// empty code, a mis-cased key), so a re-parse may be 422 but never 400.
	if _, err := parser(t).Parse(out); err != nil {
		if e, ok := AsError(err); !ok || e.Status != 422 {
			t.Fatalf("re-Parse of marshalled output: %v", err)
		}
	}
	_ = References(res.Msg)
	_ = Identifiers(res.Msg)
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"resourceType":"Patient","id":"1","birthDate":"1970-01-01"}`,
		`{"resourceType":"Encounter","status":"finished","class":{"code":"AMB"},"subject":{"reference":"Patient/1"}}`,
		`{"resourceType":"Condition","subject":{"reference":"urn:uuid:1"},"onsetDateTime":"2020"}`,
		`{"resourceType":"Patient","contained":[{"resourceType":"Organization","id":"o"}],"managingOrganization":{"reference":"#o"}}`,
		`{"resourceType":5}`, `[]`, `{`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		res, err := parser(t).Parse(raw)
		checkParseResult(t, raw, res, err)
		if err == nil {
			if _, err := SetMeta(raw, "1", fixedTime); err != nil {
				t.Fatalf("SetMeta on a parsed resource: %v", err)
			}
			if _, err := RewriteReferencesJSON(raw, func(s string) (string, bool) { return "Patient/x", true }); err != nil {
				t.Fatalf("RewriteReferencesJSON on a parsed resource: %v", err)
			}
		}
	})
}

func FuzzParseBundle(f *testing.F) {
	for _, s := range []string{
		`{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"urn:uuid:1","resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}}]}`,
		`{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"DELETE","url":"Patient/1"}}]}`,
		`{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Condition","bogus":1}}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		b, err := parser(t).ParseBundle(raw)
		if err != nil {
			if _, ok := AsError(err); !ok {
				t.Fatalf("error is %T, not *fhir.Error: %v", err, err)
			}
			return
		}
		for _, e := range b.Entries {
			if e.Resource == nil {
				continue
			}
			if _, err := parser(t).Parse(e.Resource.Raw); err != nil {
				t.Fatalf("entry %d raw does not parse alone: %v", e.Index, err)
			}
		}
	})
}
