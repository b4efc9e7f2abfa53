package ingest_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping/ingest"
	"github.com/codebridge/codebridge/mapping/workitem"
)

const (
	patient   = `{"resourceType":"Patient","id":"p1","gender":"female"}`
	encounter = `{"resourceType":"Encounter","id":"e1","status":"finished","class":{"code":"AMB"},"subject":{"reference":"Patient/p1"}}`
	condition = `{"resourceType":"Condition","subject":{"reference":"Patient/p1"},"encounter":{"reference":"Encounter/e1"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"I10"}]}}`
	obs       = `{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"pulse"}}`
)

func bundle(typ string, entries ...string) string {
	return `{"resourceType":"Bundle","type":"` + typ + `","entry":[` + strings.Join(entries, ",") + `]}`
}

func entry(res, method, url string, extra ...string) string {
	req := `"method":"` + method + `","url":"` + url + `"`
	for _, x := range extra {
		req += "," + x
	}
	if res == "" {
		return `{"request":{` + req + `}}`
	}
	return `{"fullUrl":"urn:uuid:` + url + `","resource":` + res + `,"request":{` + req + `}}`
}

var parser = func() *fhir.Parser {
	p, err := fhir.NewParser()
	if err != nil {
		panic(err)
	}
	return p
}()

func newService(st *fakeStore) *ingest.Service {
	return &ingest.Service{Parser: parser, Store: st, MaxBundleEntries: 3}
}

// norm hides random ids of creates, and times (TestBundleRewritesReferencesAndResendIsNoOp checks them).
func norm(r ingest.Result) ingest.Result {
	for i := range r.Entries {
		e := &r.Entries[i]
		if len(e.ID) == 36 {
			e.ID = "<new>"
		}
		e.LastUpdated = time.Time{}
	}
	return r
}

func ok(i, status int, typ, id string) ingest.Entry {
	return ingest.Entry{Index: i, Status: status, Type: typ, ID: id, Version: 1}
}

func TestRaw(t *testing.T) {
	tests := []struct {
		name     string
		raw      string
		want     ingest.Result
		wantKind *workitem.Kind // nil: no error
		stored   map[string]int
	}{
		{name: "resource with id is PUT", raw: patient,
			want:   ingest.Result{Entries: []ingest.Entry{ok(0, 201, "Patient", "p1")}},
			stored: map[string]int{"Patient/p1": 1}},
		{name: "resource without id is POST", raw: condition,
			want:   ingest.Result{Entries: []ingest.Entry{ok(0, 201, "Condition", "<new>")}},
			stored: map[string]int{}},
		{name: "unused type is skipped", raw: obs,
			want: ingest.Result{Entries: []ingest.Entry{{Status: 200, Type: "Observation", ID: "o1",
				Skipped: "Observation is not used by codebridge; resource skipped"}}},
			stored: map[string]int{}},
		{name: "unparseable", raw: `{"resourceType":`, wantKind: kind(workitem.Invalid), stored: map[string]int{}},
		{name: "not JSON at all", raw: `<xml/>`, wantKind: kind(workitem.Invalid), stored: map[string]int{}},
		{name: "invalid FHIR", raw: strings.Replace(encounter, "finished", "done-and-dusted", 1), wantKind: kind(workitem.Unprocessable), stored: map[string]int{}},
		{name: "collection goes in as a batch", raw: `{"resourceType":"Bundle","type":"collection","entry":[{"resource":` + patient + `},{"resource":` + obs + `}]}`,
			want: ingest.Result{BundleType: "batch", Entries: []ingest.Entry{ok(0, 201, "Patient", "p1"),
				{Index: 1, Status: 200, Skipped: "Observation is not used by codebridge; entry skipped"}}},
			stored: map[string]int{"Patient/p1": 1}},
		{name: "transaction", raw: bundle("transaction", entry(patient, "PUT", "Patient/p1"), entry(encounter, "PUT", "Encounter/e1")),
			want:   ingest.Result{BundleType: "transaction", Entries: []ingest.Entry{ok(0, 201, "Patient", "p1"), ok(1, 201, "Encounter", "e1")}},
			stored: map[string]int{"Patient/p1": 1, "Encounter/e1": 1}},
		{name: "transaction fails as a whole", raw: bundle("transaction", entry(patient, "PUT", "Patient/p1"), entry(encounter, "PUT", "Encounter/e1", `"ifMatch":"W/\"4\""`)),
			wantKind: kind(workitem.Precondition), stored: map[string]int{}},
		{name: "transaction with a dangling reference", raw: bundle("transaction", entry(strings.Replace(encounter, "Patient/p1", "urn:uuid:nowhere", 1), "PUT", "Encounter/e1")),
			wantKind: kind(workitem.Unprocessable), stored: map[string]int{}},
		{name: "batch keeps the good entries", raw: bundle("batch", entry(patient, "PUT", "Patient/p1"), entry(encounter, "PUT", "Encounter/e1", `"ifMatch":"W/\"4\""`)),
			want: ingest.Result{BundleType: "batch", Entries: []ingest.Entry{ok(0, 201, "Patient", "p1"),
				{Index: 1, Type: "Encounter", ID: "e1", Err: workitem.Errorf(workitem.Precondition, "Encounter/e1: If-Match 4, current 0")}}},
			stored: map[string]int{"Patient/p1": 1}},
		{name: "delete in a batch", raw: bundle("batch", entry(patient, "PUT", "Patient/p1"), entry("", "DELETE", "Patient/p1"), entry("", "DELETE", "Patient/p9")),
			want: ingest.Result{BundleType: "batch", Entries: []ingest.Entry{ok(0, 201, "Patient", "p1"),
				{Index: 1, Status: 204, Type: "Patient", ID: "p1", Version: 2}, {Index: 2, Status: 204, Type: "Patient", ID: "p9", Unchanged: true}}},
			stored: map[string]int{"Patient/p1": 2}},
		{name: "too many entries", raw: bundle("batch", entry(patient, "PUT", "Patient/p1"), entry(patient, "PUT", "Patient/p1"), entry(patient, "PUT", "Patient/p1"), entry(patient, "PUT", "Patient/p1")),
			wantKind: kind(workitem.TooLarge), stored: map[string]int{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newFakeStore()
			got, err := newService(st).Raw(context.Background(), "tester", []byte(tt.raw))
			if tt.wantKind != nil {
				if err == nil || workitem.KindOf(err) != *tt.wantKind {
					t.Fatalf("error = %v (kind %v), want kind %v", err, workitem.KindOf(err), *tt.wantKind)
				}
			} else if err != nil {
				t.Fatalf("Raw: %v", err)
			}
			if diff := cmp.Diff(tt.want, norm(got), cmpopts.EquateEmpty(), cmpopts.IgnoreFields(workitem.Error{}, "Message", "Err")); diff != "" {
				t.Errorf("result mismatch (-want +got):\n%s", diff)
			}
			stored := st.versions()
			for k := range stored {
				if strings.HasPrefix(k, "Condition/") {
					delete(stored, k) // its id is random
				}
			}
			if diff := cmp.Diff(tt.stored, stored, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("stored versions mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func kind(k workitem.Kind) *workitem.Kind { return &k }

// A transaction's references to urn:uuid fullUrls are rewritten to the ids
// given to the creates, and a re-sent identical resource makes no version.
func TestBundleRewritesReferencesAndResendIsNoOp(t *testing.T) {
	st := newFakeStore()
	svc := newService(st)
	enc := strings.Replace(encounter, `"id":"e1",`, "", 1)
	cond := strings.Replace(condition, "Encounter/e1", "urn:uuid:Encounter", 1)
	raw := bundle("transaction", entry(enc, "POST", "Encounter"), entry(cond, "POST", "Condition"))
	got, err := svc.Raw(context.Background(), "tester", []byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	encID := got.Entries[0].ID
	if v := st.cur["Condition/"+got.Entries[1].ID]; !strings.Contains(string(v.raw), `"Encounter/`+encID+`"`) {
		t.Errorf("Condition does not refer to the created Encounter %s: %s", encID, v.raw)
	}
	first, err := svc.Raw(context.Background(), "tester", []byte(patient))
	if err != nil {
		t.Fatal(err)
	}
	second, err := svc.Raw(context.Background(), "tester", []byte(patient))
	if err != nil {
		t.Fatal(err)
	}
	want := []ingest.Entry{ok(0, 201, "Patient", "p1"), {Index: 0, Status: 200, Type: "Patient", ID: "p1", Version: 1, Unchanged: true}}
	for i := range want {
		want[i].LastUpdated = fakeNow
	}
	if diff := cmp.Diff(want, []ingest.Entry{first.Entries[0], second.Entries[0]}); diff != "" {
		t.Errorf("send then re-send mismatch (-want +got):\n%s", diff)
	}
}

// RawSeeded: the same message with the same seed writes the same ids again
// (a no-op); another seed is another message, so its creates are new.
func TestRawSeededReplayIsNoOp(t *testing.T) {
	enc := strings.Replace(encounter, `"id":"e1",`, `"id":"ignored-by-post",`, 1)
	raw := []byte(bundle("transaction", entry(enc, "POST", "Encounter"),
		entry(strings.Replace(condition, "Encounter/e1", "urn:uuid:Encounter", 1), "POST", "Condition"),
		entry(obs, "POST", "Observation")))
	tests := []struct {
		name      string
		seeds     []string
		resources int
		unchanged bool // the last ingest changed nothing
	}{
		{"replayed", []string{"t/0/7", "t/0/7"}, 2, true},
		{"another message", []string{"t/0/7", "t/0/8"}, 4, false},
		{"single resource replayed", nil, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newFakeStore()
			svc := newService(st)
			var last ingest.Result
			var err error
			if tt.seeds == nil {
				for range 2 {
					last, err = svc.RawSeeded(context.Background(), "kafka", "t/1/1", []byte(condition))
				}
			}
			for _, seed := range tt.seeds {
				last, err = svc.RawSeeded(context.Background(), "kafka", seed, raw)
			}
			if err != nil {
				t.Fatal(err)
			}
			if n := len(st.versions()); n != tt.resources {
				t.Errorf("%d resources stored, want %d", n, tt.resources)
			}
			for _, e := range last.Entries {
				if e.Skipped == "" && e.Unchanged != tt.unchanged {
					t.Errorf("entry %d unchanged = %v, want %v", e.Index, e.Unchanged, tt.unchanged)
				}
				if e.Skipped == "" && e.ID == "ignored-by-post" {
					t.Errorf("entry %d kept the id a POST ignores", e.Index)
				}
			}
		})
	}
	if a, b := ingest.SeededID("s", 1), ingest.SeededID("s", 1); a != b || a == ingest.SeededID("s", 2) {
		t.Errorf("SeededID not a function of (seed, index): %s %s", a, b)
	}
}

// A store failure is a receiver fault: returned for a transaction or a
// single resource, on every entry of a batch.
func TestReceiverFault(t *testing.T) {
	down := errors.New("dial tcp: connection refused")
	tests := []struct {
		name string
		raw  string
	}{
		{"single", patient},
		{"transaction", bundle("transaction", entry(patient, "PUT", "Patient/p1"))},
		{"batch", bundle("batch", entry(patient, "PUT", "Patient/p1"), entry(encounter, "PUT", "Encounter/e1"))},
		{"conditional create", bundle("transaction", entry(strings.Replace(patient, `"id":"p1",`, "", 1), "POST", "Patient", `"ifNoneExist":"identifier=urn:mrn|1"`))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newFakeStore()
			st.fail = down
			res, err := newService(st).Raw(context.Background(), "tester", []byte(tt.raw))
			faults := 0
			if ingest.IsReceiverFault(err) {
				faults++
			}
			for _, e := range res.Failed() {
				if ingest.IsReceiverFault(e.Err) && errors.Is(e.Err, down) {
					faults++
				}
			}
			want := 1
			if tt.name == "batch" {
				want = 2
			}
			if faults != want {
				t.Errorf("receiver faults = %d (err %v, result %+v), want %d", faults, err, res, want)
			}
		})
	}
	if ingest.IsReceiverFault(nil) || ingest.IsReceiverFault(workitem.Errorf(workitem.Invalid, "bad")) {
		t.Error("nil or Invalid reported as a receiver fault")
	}
	if !ingest.IsReceiverFault(workitem.Errorf(workitem.Transient, "database unavailable")) {
		t.Error("Transient not reported as a receiver fault")
	}
}

// Bundle refuses the Bundle types only Raw converts, and the actor reaches
// the store.
func TestBundleTypesAndActor(t *testing.T) {
	st := newFakeStore()
	svc := newService(st)
	b, err := parser.ParseBundle([]byte(`{"resourceType":"Bundle","type":"collection","entry":[{"resource":` + patient + `}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Bundle(context.Background(), "ehr1", b); workitem.KindOf(err) != workitem.Invalid {
		t.Errorf("collection through Bundle: %v, want Invalid", err)
	}
	b, err = parser.ParseBundle([]byte(bundle("batch", entry(patient, "PUT", "Patient/p1"))))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Bundle(context.Background(), "ehr1", b); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"ehr1"}, st.actors); diff != "" {
		t.Errorf("actors mismatch (-want +got):\n%s", diff)
	}
}
