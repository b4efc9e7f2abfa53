package ingest_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// TestIfNoneMatch: request.ifNoneMatch "*" makes a PUT entry create-only
// (the second transaction fails whole, nothing written); "*" on a POST is
// met by construction; any other value is refused, for the whole
// transaction or for its batch entry alone.
func TestIfNoneMatch(t *testing.T) {
	ctx := context.Background()
	st := newFakeStore()
	svc := newService(st)
	createOnly := bundle("transaction", entry(patient, "PUT", "Patient/p1", `"ifNoneMatch":"*"`), entry(encounter, "PUT", "Encounter/e1"))
	if _, err := svc.Raw(ctx, "t", []byte(createOnly)); err != nil {
		t.Fatalf("create-only PUT of a new Patient: %v", err)
	}
	before := st.versions()
	if _, err := svc.Raw(ctx, "t", []byte(createOnly)); workitem.KindOf(err) != workitem.Precondition {
		t.Fatalf("create-only PUT of an existing Patient = %v, want Precondition", err)
	}
	if diff := cmp.Diff(before, st.versions()); diff != "" {
		t.Errorf("a failed transaction wrote (-before +after):\n%s", diff)
	}
	if _, err := svc.Raw(ctx, "t", []byte(bundle("transaction", entry(condition, "POST", "Condition", `"ifNoneMatch":"*"`)))); err != nil {
		t.Errorf("ifNoneMatch * on a POST: %v", err)
	}
	for _, bad := range []string{`"ifNoneMatch":"W/\"1\""`} {
		_, err := svc.Raw(ctx, "t", []byte(bundle("transaction", entry(patient, "PUT", "Patient/p1", bad))))
		if workitem.KindOf(err) != workitem.Invalid || len(workitem.IssuesOf(err)) == 0 || workitem.IssuesOf(err)[0].Expression[0] != "Bundle.entry[0].request.ifNoneMatch" {
			t.Errorf("transaction with %s = %v %v, want Invalid at the entry's ifNoneMatch", bad, err, workitem.IssuesOf(err))
		}
		res, err := svc.Raw(ctx, "t", []byte(bundle("batch", entry(patient, "PUT", "Patient/p1", bad), entry(obs, "PUT", "Observation/o1"))))
		if err != nil || len(res.Failed()) != 1 || res.Failed()[0].Index != 0 || res.Entries[1].Skipped == "" {
			t.Errorf("batch with %s = %+v, %v; want entry 0 failed alone", bad, res, err)
		}
	}
	if _, err := svc.Raw(ctx, "t", []byte(bundle("transaction", entry("", "DELETE", "Patient/p1", `"ifNoneMatch":"*"`)))); workitem.KindOf(err) != workitem.Invalid {
		t.Errorf("ifNoneMatch * on a DELETE = %v, want Invalid", err)
	}
}
