package workitem

import (
	"errors"
	"fmt"
	"testing"
)

func TestKindOfThroughWrapping(t *testing.T) {
	base := Errorf(NotFound, "Encounter/%s not found", "e1")
	err := fmt.Errorf("outer: %w", base)
	Wrap(&err, "store.Get(%s)", "e1")
	if got := KindOf(err); got != NotFound {
		t.Fatalf("KindOf = %v, want not_found", got)
	}
	if KindOf(errors.New("plain")) != Internal {
		t.Fatal("plain errors must be internal")
	}
	var nilErr error
	Wrap(&nilErr, "x")
	if nilErr != nil {
		t.Fatal("Wrap must leave nil alone")
	}
	e := Errorf(Unprocessable, "bad").WithIssues(Issue{Severity: "error", Code: "invalid", Expression: []string{"Encounter.status"}})
	if got := IssuesOf(fmt.Errorf("w: %w", e)); len(got) != 1 || got[0].Expression[0] != "Encounter.status" {
		t.Fatalf("IssuesOf = %+v", got)
	}
	if Unprocessable.String() != "unprocessable" || Kind(99).String() != "internal" {
		t.Fatal("kind names")
	}
}
