package postgres_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// TestOpenQueryCompliance proves the store, not only the workbench,
// refuses a non-compliant physician query (workitem.CheckQuery), with an
// issue per rule broken, and leaves the item as it was.
func TestOpenQueryCompliance(t *testing.T) {
	s := postgres.NewStore(pgtest.New(t), postgres.StoreOptions{})
	ctx := context.Background()
	seedItems(t, s, item{id: "wi-1", status: "in_progress", assignee: "alice", priority: 100})
	alice := workitem.Actor{Name: "alice", Role: workitem.RoleCoder}
	leading := workitem.Query{Question: "Would sepsis raise the DRG payment?", Options: []string{"Sepsis", "Other"}}
	_, err := s.OpenQuery(ctx, "wi-1", alice, leading)
	if workitem.KindOf(err) != workitem.Unprocessable {
		t.Fatalf("non-compliant query = %v, want Unprocessable", err)
	}
	var fields []string
	for _, is := range workitem.IssuesOf(err) {
		fields = append(fields, is.Expression...)
	}
	if diff := cmp.Diff([]string{"options", "question"}, fields); diff != "" {
		t.Errorf("issues: mismatch (-want +got):\n%s", diff)
	}
	var status string
	if err := s.DB().QueryRow(`SELECT status FROM work_items WHERE id = 'wi-1'`).Scan(&status); err != nil || status != "in_progress" {
		t.Fatalf("status after a refused query = %q, %v; want in_progress", status, err)
	}
	ok := workitem.Query{Question: "Please clarify the type of sepsis.", Indicators: []string{"Lactate 4.1"},
		Options: []string{"Sepsis due to E. coli", "Sepsis, organism unspecified", workitem.QueryOtherOption}}
	if _, err := s.OpenQuery(ctx, "wi-1", alice, ok); err != nil {
		t.Fatalf("compliant query: %v", err)
	}
	if err := s.DB().QueryRow(`SELECT status FROM work_items WHERE id = 'wi-1'`).Scan(&status); err != nil || status != "on_hold" {
		t.Errorf("status after a compliant query = %q, %v; want on_hold", status, err)
	}
}
