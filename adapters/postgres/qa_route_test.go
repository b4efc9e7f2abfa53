package postgres_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
	"github.com/codebridge/codebridge/mapping"
	"github.com/codebridge/codebridge/mapping/codes"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// TestSubmitRoutesByInstitutionalClasses proves a submit routes to QA
// review by the store's configured institutional classes
// (workitem.RouteCoded): with the defaults every inpatient stay is
// reviewed; once inpatient stays are not billed institutionally, none is
// reviewed by class (the sample rate here is 0).
func TestSubmitRoutesByInstitutionalClasses(t *testing.T) {
	noEdits := func(context.Context, codes.Lookup, *workitem.Chart, workitem.Assignment) ([]workitem.Edit, error) {
		return nil, nil
	}
	alice := workitem.Actor{Name: "alice", Role: workitem.RoleCoder}
	tests := []struct {
		name          string
		institutional []string
		want          map[string]bool // item id → routed to review
	}{
		{"default classes", nil, map[string]bool{"imp": true, "acute": true, "emer": false, "amb": false}},
		{"configured defaults", []string{"IMP", "ACUTE", "EMER", "OBSENC"}, map[string]bool{"imp": true, "acute": true, "emer": false, "amb": false}},
		{"inpatient billed professionally", []string{"EMER"}, map[string]bool{"imp": false, "acute": false, "emer": false, "amb": false}},
	}
	for _, tt := range tests {
		s := postgres.NewStore(pgtest.New(t), postgres.StoreOptions{Check: noEdits,
			ClaimOptions: mapping.ClaimOptions{InstitutionalClasses: tt.institutional}})
		ctx := context.Background()
		seedItems(t, s, item{id: "imp", class: "IMP", status: "in_progress", assignee: "alice"},
			item{id: "acute", class: "ACUTE", status: "in_progress", assignee: "alice"},
			item{id: "emer", class: "EMER", status: "in_progress", assignee: "alice"},
			item{id: "amb", class: "AMB", status: "in_progress", assignee: "alice"})
		if _, err := s.DB().Exec(`UPDATE work_items SET codes = '{"diagnoses":[{"code":"J20.9"}],"lines":[]}'`); err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for id := range tt.want {
			if err := s.Submit(ctx, id, alice, workitem.SubmitOptions{}); err != nil {
				t.Fatalf("%s: Submit(%s): %v", tt.name, id, err)
			}
			var status string
			if err := s.DB().QueryRow(`SELECT status FROM work_items WHERE id = $1`, id).Scan(&status); err != nil {
				t.Fatal(err)
			}
			got[id] = status == string(workitem.InReview)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s: routed to review: mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
}
