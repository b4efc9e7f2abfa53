package workitemtest_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/codebridge/codebridge/mapping/workitem"
	"github.com/codebridge/codebridge/mapping/workitem/workitemtest"
)

func write(typ, id, method string, hash byte, edit ...func(*workitem.ResourceWrite)) workitem.ResourceWrite {
	w := workitem.ResourceWrite{Type: typ, ID: id, Method: method, Hash: []byte{hash},
		Identifiers: []workitem.Identifier{{System: "urn:mrn", Value: id}},
		Serve:       func(int, time.Time) ([]byte, error) { return []byte(`{}`), nil }}
	for _, e := range edit {
		e(&w)
	}
	return w
}

// result is what the test compares of one WriteResources call.
type result struct {
	Versions                    []int
	Created, Unchanged, Deleted []bool
	Kind                        string
}

// The fake keeps the store's version rules, all or nothing per call.
func TestWriteResources(t *testing.T) {
	ifMatch := func(v int) func(*workitem.ResourceWrite) { return func(w *workitem.ResourceWrite) { w.IfMatch = v } }
	ifNone := func(c string) func(*workitem.ResourceWrite) {
		return func(w *workitem.ResourceWrite) { w.IfNoneExist = c }
	}
	createOnly := func(w *workitem.ResourceWrite) { w.IfNoneMatch = true }
	calls := [][]workitem.ResourceWrite{
		{write("Patient", "p1", "PUT", 1), write("Patient", "p2", "PUT", 1)},
		{write("Patient", "p1", "PUT", 1)},
		{write("Patient", "p1", "PUT", 2, ifMatch(1))},
		{write("Patient", "p2", "PUT", 2), write("Patient", "p1", "PUT", 3, ifMatch(1))},
		{write("Patient", "p1", "PUT", 3, createOnly)},
		{write("Patient", "new", "POST", 9, ifNone("identifier=urn:mrn|p2"))},
		{write("Patient", "p1", "DELETE", 0), write("Patient", "p1", "DELETE", 0), write("Patient", "p9", "DELETE", 0)},
		{write("Patient", "p1", "PUT", 3, createOnly)},
	}
	want := []result{
		{Versions: []int{1, 1}, Created: []bool{true, true}, Unchanged: []bool{false, false}, Deleted: []bool{false, false}},
		{Versions: []int{1}, Created: []bool{false}, Unchanged: []bool{true}, Deleted: []bool{false}},
		{Versions: []int{2}, Created: []bool{false}, Unchanged: []bool{false}, Deleted: []bool{false}},
		{Kind: "precondition_failed"},
		{Kind: "precondition_failed"},
		{Versions: []int{1}, Created: []bool{false}, Unchanged: []bool{true}, Deleted: []bool{false}},
		{Versions: []int{3, 3, 0}, Created: []bool{false, false, false}, Unchanged: []bool{false, true, true}, Deleted: []bool{true, true, true}},
		{Versions: []int{4}, Created: []bool{false}, Unchanged: []bool{false}, Deleted: []bool{false}},
	}
	st := workitemtest.New()
	var got []result
	for _, ws := range calls {
		res, err := st.WriteResources(context.Background(), "ehr1", ws)
		if err != nil {
			got = append(got, result{Kind: workitem.KindOf(err).String()})
			continue
		}
		var r result
		for _, x := range res {
			r.Versions = append(r.Versions, x.Version)
			r.Created, r.Unchanged, r.Deleted = append(r.Created, x.Created), append(r.Unchanged, x.Unchanged), append(r.Deleted, x.Deleted)
		}
		got = append(got, r)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results mismatch (-want +got):\n%s", diff)
	}
	// The failed call wrote nothing: p2 is still at version 1.
	if r, err := st.ReadResource(context.Background(), "Patient", "p2", 0); err != nil || r.Version != 1 {
		t.Errorf("p2 = %+v, %v; want version 1", r, err)
	}
}

// Reads and conditional lookups answer the store's kinds.
func TestReadAndFind(t *testing.T) {
	ctx := context.Background()
	st := workitemtest.New()
	for _, w := range []workitem.ResourceWrite{write("Patient", "p1", "PUT", 1), write("Patient", "p1", "PUT", 2),
		write("Patient", "p2", "PUT", 1), write("Patient", "p3", http.MethodPut, 1), write("Patient", "p3", http.MethodDelete, 0)} {
		if _, err := st.WriteResources(ctx, "ehr1", []workitem.ResourceWrite{w}); err != nil {
			t.Fatal(err)
		}
	}
	reads := []struct {
		id      string
		version int
		want    string // version read, or the error kind
	}{
		{"p1", 0, "2"}, {"p1", 1, "1"}, {"p1", 3, "not_found"}, {"p3", 0, "not_found"}, {"p3", 2, "2"}, {"p9", 0, "not_found"},
	}
	for _, r := range reads {
		got, err := st.ReadResource(ctx, "Patient", r.id, r.version)
		s := workitem.KindOf(err).String()
		if err == nil {
			s = strconv.Itoa(got.Version)
		}
		if s != r.want {
			t.Errorf("ReadResource(%s, %d) = %s, want %s", r.id, r.version, s, r.want)
		}
	}
	finds := []struct{ criteria, want string }{
		{"identifier=urn:mrn|p2", "p2"}, {"_id=p1", "p1"}, {"identifier=urn:mrn|p3", ""}, {"identifier=urn:mrn|nobody", ""},
	}
	for _, f := range finds {
		id, found, err := st.FindConditional(ctx, "Patient", f.criteria)
		if err != nil || found != (f.want != "") || id != f.want {
			t.Errorf("FindConditional(%s) = %q, %v, %v; want %q", f.criteria, id, found, err, f.want)
		}
	}
}

// Leases go to the ready item of highest priority, up to the cap.
func TestLeaseNextChart(t *testing.T) {
	ctx := context.Background()
	st := workitemtest.New()
	st.PutItem(workitem.Item{ID: "low", Status: workitem.Ready, Priority: 1})
	st.PutItem(workitem.Item{ID: "high", Status: workitem.Ready, Priority: 9})
	st.PutItem(workitem.Item{ID: "held", Status: workitem.OnHold, Priority: 99})
	var got []string
	for range 3 {
		it, _, ok, err := st.LeaseNextChart(ctx, "alice", 2, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, it.ID+"/"+string(it.Status)+"/"+it.Assignee+"/"+strconv.FormatBool(ok))
	}
	want := []string{"high/in_progress/alice/true", "low/in_progress/alice/true", "///false"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("leases mismatch (-want +got):\n%s", diff)
	}
}

// SaveCodes checks the version; an answered query is a Conflict.
func TestCodingKinds(t *testing.T) {
	ctx := context.Background()
	st := workitemtest.New()
	st.PutItem(workitem.Item{ID: "w1", Status: workitem.InProgress, Assignee: "alice"})
	alice := workitem.Actor{Name: "alice", Role: workitem.RoleCoder}
	var kinds []string
	record := func(err error) {
		kinds = append(kinds, map[bool]string{true: "ok", false: workitem.KindOf(err).String()}[err == nil])
	}
	_, err := st.SaveCodes(ctx, "w1", alice, 2, workitem.Assignment{}, time.Minute)
	record(err)
	_, err = st.SaveCodes(ctx, "w1", alice, 1, workitem.Assignment{}, time.Minute)
	record(err)
	_, err = st.SaveCodes(ctx, "none", alice, 0, workitem.Assignment{}, time.Minute)
	record(err)
	q, err := st.OpenQuery(ctx, "w1", alice, workitem.Query{Question: "?"})
	record(err)
	record(st.AnswerQuery(ctx, "w1", q.ID, alice, "yes"))
	record(st.AnswerQuery(ctx, "w1", q.ID, alice, "yes"))
	record(st.AnswerQuery(ctx, "w1", "q9", alice, "yes"))
	want := []string{"precondition_failed", "ok", "not_found", "ok", "ok", "conflict", "not_found"}
	if diff := cmp.Diff(want, kinds); diff != "" {
		t.Errorf("kinds mismatch (-want +got):\n%s", diff)
	}
	it, hist, err := st.GetItem(ctx, "w1")
	if err != nil || it.Version != 4 || it.Status != workitem.Ready || len(hist) != 2 {
		t.Errorf("item %+v, %d transitions, %v; want version 4, ready, 2 transitions", it, len(hist), err)
	}
}
