package ingest_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping/ingest"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// writeOutcome is what a test compares of one Write.
type writeOutcome struct {
	Created, Unchanged, Deleted bool
	Version                     int
	Kind                        string // "" on success
}

func outcomeOf(r workitem.WriteResult, err error) writeOutcome {
	if err != nil {
		return writeOutcome{Kind: workitem.KindOf(err).String()}
	}
	return writeOutcome{Created: r.Created, Unchanged: r.Unchanged, Deleted: r.Deleted, Version: r.Version}
}

// Write takes single-resource POST, PUT and DELETE with the REST API's
// checks, in order after the requests before it on the same store.
func TestWrite(t *testing.T) {
	put := func(raw, id, ifMatch string) ingest.Request {
		return ingest.Request{Method: http.MethodPut, Type: "Patient", ID: id, Raw: []byte(raw), IfMatch: ifMatch}
	}
	changed := strings.Replace(patient, "female", "male", 1)
	tests := []struct {
		name string
		reqs []ingest.Request
		want []writeOutcome
	}{
		{"update as create, re-send, change", []ingest.Request{put(patient, "p1", ""), put(patient, "p1", ""), put(changed, "p1", `W/"1"`)},
			[]writeOutcome{{Created: true, Version: 1}, {Unchanged: true, Version: 1}, {Version: 2}}},
		{"If-Match not met", []ingest.Request{put(patient, "p1", ""), put(changed, "p1", `W/"7"`)},
			[]writeOutcome{{Created: true, Version: 1}, {Kind: "precondition_failed"}}},
		{"malformed If-Match", []ingest.Request{put(patient, "p1", `"one"`)}, []writeOutcome{{Kind: "invalid"}}},
		{"body id differs from the URL", []ingest.Request{put(patient, "p2", "")}, []writeOutcome{{Kind: "invalid"}}},
		{"body type differs from the URL", []ingest.Request{{Method: http.MethodPut, Type: "Encounter", ID: "p1", Raw: []byte(patient)}},
			[]writeOutcome{{Kind: "invalid"}}},
		{"unparseable", []ingest.Request{put(`{"resourceType":`, "p1", "")}, []writeOutcome{{Kind: "invalid"}}},
		{"invalid FHIR", []ingest.Request{{Method: http.MethodPut, Type: "Encounter", ID: "e1", Raw: []byte(strings.Replace(encounter, "finished", "done", 1))}},
			[]writeOutcome{{Kind: "unprocessable"}}},
		{"type not served", []ingest.Request{{Method: http.MethodPut, Type: "Observation", ID: "o1", Raw: []byte(obs)}},
			[]writeOutcome{{Kind: "not_found"}}},
		{"create", []ingest.Request{{Method: http.MethodPost, Type: "Condition", Raw: []byte(condition)}},
			[]writeOutcome{{Created: true, Version: 1}}},
		{"malformed If-None-Exist", []ingest.Request{{Method: http.MethodPost, Type: "Condition", Raw: []byte(condition), IfNoneExist: "name=x"}},
			[]writeOutcome{{Kind: "invalid"}}},
		{"delete, delete again, delete missing", []ingest.Request{put(patient, "p1", ""),
			{Method: http.MethodDelete, Type: "Patient", ID: "p1"}, {Method: http.MethodDelete, Type: "Patient", ID: "p1"},
			{Method: http.MethodDelete, Type: "Patient", ID: "p9"}},
			[]writeOutcome{{Created: true, Version: 1}, {Deleted: true, Version: 2}, {Unchanged: true, Version: 2}, {Unchanged: true}}},
		{"not a write", []ingest.Request{{Method: http.MethodPatch, Type: "Patient", ID: "p1"}}, []writeOutcome{{Kind: "method_not_allowed"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := newService(newFakeStore())
			var got []writeOutcome
			for _, r := range tt.reqs {
				got = append(got, outcomeOf(svc.Write(context.Background(), "ehr1", r)))
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("outcomes mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// Write hands the store what the headers ask for: normalised If-None-Exist
// criteria, the If-Match version, a tombstone for a DELETE; and the actor.
func TestWriteRequestReachesStore(t *testing.T) {
	st := newFakeStore()
	svc := newService(st)
	ctx := context.Background()
	reqs := []ingest.Request{
		{Method: http.MethodPost, Type: "Patient", Raw: []byte(patient), IfNoneExist: "Patient?identifier=urn:mrn|1"},
		{Method: http.MethodPut, Type: "Patient", ID: "p1", Raw: []byte(patient)},
		{Method: http.MethodPut, Type: "Patient", ID: "p1", Raw: []byte(strings.Replace(patient, "female", "male", 1)), IfMatch: `W/"1"`},
		{Method: http.MethodDelete, Type: "Patient", ID: "p1"},
	}
	for _, r := range reqs {
		if _, err := svc.Write(ctx, "ehr1", r); err != nil {
			t.Fatalf("%s: %v", r.Method, err)
		}
	}
	type seen struct {
		Method, Criteria, Tombstone string
		IfMatch                     int
	}
	var got []seen
	for _, w := range st.writes {
		s := seen{Method: w.Method, Criteria: w.IfNoneExist, IfMatch: w.IfMatch}
		if w.Method == http.MethodDelete {
			raw, err := w.Serve(2, fakeNow)
			if err != nil {
				t.Fatal(err)
			}
			var tomb struct {
				ResourceType, ID string
				Meta             struct{ VersionID string }
			}
			if err := json.Unmarshal(raw, &tomb); err != nil {
				t.Fatalf("tombstone %s: %v", raw, err)
			}
			s.Tombstone = tomb.ResourceType + "/" + tomb.ID + "/_history/" + tomb.Meta.VersionID
		}
		got = append(got, s)
	}
	want := []seen{{Method: "POST", Criteria: "identifier=urn:mrn|1"}, {Method: "PUT"}, {Method: "PUT", IfMatch: 1},
		{Method: "DELETE", Tombstone: "Patient/p1/_history/2"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("writes mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"ehr1", "ehr1", "ehr1", "ehr1"}, st.actors); diff != "" {
		t.Errorf("actors mismatch (-want +got):\n%s", diff)
	}
}

// DomainError keeps a domain error and its context, classifies FHIR parse
// and validation errors with their issues, and makes anything else
// Internal with its cause.
func TestDomainError(t *testing.T) {
	_, unparseableErr := parser.Parse([]byte(`{"resourceType":`))
	_, invalidErr := parser.Parse([]byte(strings.Replace(encounter, "finished", "done", 1)))
	down := errors.New("connection refused")
	stale := workitem.Errorf(workitem.Precondition, "stale")
	tests := []struct {
		name      string
		err       error
		wantKind  workitem.Kind
		wantIs    error
		wantText  string // "" = not checked
		hasIssues bool
	}{
		{"domain error keeps its context", errors.Join(errors.New("postgres.WriteResources"), stale), workitem.Precondition, stale, "postgres.WriteResources\nstale", false},
		{"unparseable", unparseableErr, workitem.Invalid, nil, "", true},
		{"invalid content", invalidErr, workitem.Unprocessable, nil, "", true},
		{"anything else", down, workitem.Internal, down, "internal error: connection refused", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, ok := fhir.AsError(tt.err); tt.wantIs == nil && !ok {
				t.Fatalf("test input %v is not a FHIR error", tt.err)
			}
			got := ingest.DomainError(tt.err)
			var we *workitem.Error
			if !errors.As(got, &we) || we.Kind != tt.wantKind {
				t.Fatalf("DomainError(%v) = %v, want kind %v", tt.err, got, tt.wantKind)
			}
			if tt.wantIs != nil && !errors.Is(got, tt.wantIs) {
				t.Errorf("DomainError(%v) lost %v", tt.err, tt.wantIs)
			}
			if tt.wantText != "" && got.Error() != tt.wantText {
				t.Errorf("text = %q, want %q", got.Error(), tt.wantText)
			}
			if tt.hasIssues != (len(we.Issues) > 0) {
				t.Errorf("issues = %v, want some: %v", we.Issues, tt.hasIssues)
			}
		})
	}
	if ingest.DomainError(nil) != nil {
		t.Error("DomainError(nil) != nil")
	}
}
