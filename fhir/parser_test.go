package fhir

import (
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
)

func TestParseExamplesRoundTrip(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "fhir", "r4-examples", "*-*.json"))
	if err != nil || len(files) < 100 {
		t.Fatalf("examples: %d files, %v", len(files), err)
	}
	p := parser(t)
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			res := mustParse(t, name)
			if want := strings.SplitN(name, "-", 2)[0]; res.Type != want {
				t.Errorf("Type = %q, want %q", res.Type, want)
			}
			if wantID := strings.TrimSuffix(strings.SplitN(name, "-", 2)[1], ".json"); res.ID != wantID {
				t.Errorf("ID = %q, want %q", res.ID, wantID)
			}
			out, err := Marshal(res.Msg)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			again, err := p.Parse(out)
			if err != nil {
				t.Fatalf("re-Parse: %v", err)
			}
			if diff := cmp.Diff(normalizeRefs(t, res.Msg), normalizeRefs(t, again.Msg), protocmp.Transform()); diff != "" {
				t.Errorf("round trip mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		status int
		code   string
		expr   string
	}{
		{"malformed", `{"resourceType":`, 400, IssueStructure, ""},
		{"not object", `[1,2]`, 400, IssueStructure, ""},
		{"trailing bytes", `{"resourceType":"Patient"} x`, 400, IssueStructure, ""},
		{"no resourceType", `{"id":"1"}`, 400, IssueRequired, "resourceType"},
		{"resourceType not string", `{"resourceType":5}`, 400, IssueStructure, "resourceType"},
		{"unknown resourceType", `{"resourceType":"Foo"}`, 422, IssueNotSupported, "resourceType"},
		{"unknown element", `{"resourceType":"Condition","subject":{"reference":"Patient/1"},"bogus":1}`, 422, IssueStructure, "Condition.bogus"},
		{"bad date", `{"resourceType":"Condition","subject":{"reference":"Patient/1"},"onsetDateTime":"2020-13-45"}`, 422, IssueValue, "Condition.onsetDateTime"},
		{"wrong type", `{"resourceType":"Encounter","status":"finished","class":"AMB"}`, 422, IssueStructure, "Encounter.class"},
		{"wrong primitive", `{"resourceType":"Patient","name":[{"given":["a",5]}]}`, 422, IssueValue, "Patient.name[0].given[1]"},
		{"missing required", `{"resourceType":"Encounter","status":"finished"}`, 422, IssueRequired, "Encounter.class"},
		{"bad code", `{"resourceType":"Encounter","status":"nope","class":{"code":"AMB"}}`, 422, IssueCodeInvalid, "Encounter.status"},
		{"bad reference type", `{"resourceType":"Encounter","status":"finished","class":{"code":"AMB"},"subject":{"reference":"Condition/1"}}`, 422, IssueInvalid, "Encounter.subject"},
		{"bad id", `{"resourceType":"Patient","id":"a b"}`, 422, IssueValue, "Patient.id"},
		{"choice validation", `{"resourceType":"Condition","subject":{"reference":"Patient/1"},"onsetAge":{"code":" x y"}}`, 422, IssueValue, "Condition.onsetAge.code"},
		{"contained unknown element", `{"resourceType":"Patient","contained":[{"resourceType":"Organization","bogus":1}]}`, 422, IssueStructure, "Patient.contained[0].bogus"},
		{"bundle entry", `{"resourceType":"Bundle","type":"batch","entry":[{"resource":{"resourceType":"Condition","bogus":1}}]}`, 422, IssueStructure, "Bundle.entry[0].resource.bogus"},
		{"bundle entry required", `{"resourceType":"Bundle","type":"batch","entry":[{},{"resource":{"resourceType":"DocumentReference"}}]}`, 422, IssueRequired, "Bundle.entry[1].resource.status"},
	}
	p := parser(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := p.Parse([]byte(tt.in))
			checkError(t, err, tt.status, tt.code, tt.expr)
		})
	}
}

// checkError asserts err is a *Error with the status, and that its first
// issue has the code and expression.
func checkError(tb testing.TB, err error, status int, code, expr string) {
	tb.Helper()
	var e *Error
	if !errors.As(err, &e) {
		tb.Fatalf("error = %v (%T), want *fhir.Error", err, err)
	}
	if e.Status != status {
		tb.Errorf("Status = %d, want %d (%v)", e.Status, status, e)
	}
	if len(e.Issues) == 0 {
		tb.Fatalf("no issues")
	}
	got := e.Issues[0]
	var gotExpr string
	if len(got.Expression) > 0 {
		gotExpr = got.Expression[0]
	}
	want := Issue{Severity: SeverityError, Code: code, Expression: nil}
	if diff := cmp.Diff([]string{want.Severity, want.Code, expr}, []string{got.Severity, got.Code, gotExpr}); diff != "" {
		tb.Errorf("issue mismatch (-want +got):\n%s\n(%+v)", diff, got)
	}
}

func TestErrorStringHasNoInput(t *testing.T) {
	secret := "JohnSecretSmith"
	inputs := []string{
		`{"resourceType":"Patient","birthDate":"` + secret + `"}`,
		`{"resourceType":"Patient","gender":"` + secret + `"}`,
		`{"resourceType":"` + secret + `"}`,
		`{"resourceType":"Patient","name":[{"family":5,"given":["` + secret + `"]}]}`,
		`{"resourceType":"Patient","name":"` + secret + `"}`,
		`{"resourceType":"Patient", ` + secret + `}`,
	}
	for _, in := range inputs {
		_, err := parser(t).Parse([]byte(in))
		if err == nil {
			t.Fatalf("Parse(%s) succeeded", in)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("Error() leaks input: %q", err.Error())
		}
		e, _ := AsError(err)
		if e.Status != http.StatusBadRequest && !strings.Contains(string(OperationOutcome(e.Issues...)), "diagnostics") {
			t.Errorf("OperationOutcome lacks diagnostics for %s", in)
		}
	}
}

func TestParseConcurrent(t *testing.T) {
	p := parser(t)
	raw := example(t, "Encounter-f202.json")
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 20; j++ {
				if _, err := p.Parse(raw); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestSniff(t *testing.T) {
	typ, id, err := Sniff(example(t, "Condition-f201.json"))
	if err != nil || typ != "Condition" || id != "f201" {
		t.Errorf("Sniff = %q, %q, %v; want Condition, f201, nil", typ, id, err)
	}
	if _, _, err := Sniff([]byte(`{"id":"x"}`)); err == nil {
		t.Error("Sniff without resourceType succeeded")
	}
}

func TestWrapUnwrap(t *testing.T) {
	res := mustParse(t, "Patient-example.json")
	cr, err := Wrap(res.Msg)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(res.Msg, Unwrap(cr), protocmp.Transform()); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	a, _ := Marshal(cr)
	b, _ := Marshal(res.Msg)
	if string(a) != string(b) {
		t.Errorf("Marshal(ContainedResource) != Marshal(Patient)")
	}
}
