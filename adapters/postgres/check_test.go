package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
	"github.com/codebridge/codebridge/mapping/codes"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// TestStoreChecksOnTheCodingTransaction: SaveCodes and Submit run the
// store's checker with a code lookup on the transaction that holds the
// work item, so on a pool of one connection its lookups still answer (one
// taken from the pool would wait for the connection the save holds); a
// store built without a checker refuses to code (Internal).
func TestStoreChecksOnTheCodingTransaction(t *testing.T) {
	url := pgtest.NewURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	db, err := postgres.Open(ctx, url, postgres.Options{MaxOpenConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	loadICD(t, postgres.NewCodeStore(db), "FY2025", readFile(t, "icd10cm_order_2025_extract.txt"))
	var looked []string
	check := func(ctx context.Context, lk codes.Lookup, _ *workitem.Chart, a workitem.Assignment) ([]workitem.Edit, error) {
		e, err := lk.Code(ctx, codes.ICD10CM, a.Diagnoses[0].Code, ymd(2025, 9, 15))
		if err != nil {
			return nil, err
		}
		looked = append(looked, e.Short)
		return []workitem.Edit{{Code: "TEST_WARN", Severity: "warning", Message: e.Code}}, nil
	}
	s := postgres.NewStore(db, postgres.StoreOptions{Check: check})
	seedItems(t, s, item{id: "wi-1", status: "in_progress", assignee: "alice", name: "Ada Example"})
	alice := workitem.Actor{Name: "alice", Role: workitem.RoleCoder}
	as := workitem.Assignment{Diagnoses: []workitem.AssignedDiagnosis{{Code: "J20.9", POA: "Y"}}}

	es, err := s.SaveCodes(ctx, "wi-1", alice, 0, as, time.Minute)
	if err != nil || len(es) != 1 || es[0].Message != "J209" {
		t.Fatalf("SaveCodes = %v, %v; want the checker's edit on J209", es, err)
	}
	err = s.Submit(ctx, "wi-1", alice, workitem.SubmitOptions{})
	var de *workitem.Error
	if !errors.As(err, &de) || de.Kind != workitem.Unprocessable || len(looked) != 2 {
		t.Fatalf("Submit with a warning standing = %v after %d lookups; want Unprocessable after a second check", err, len(looked))
	}

	unchecked := postgres.NewStore(db, postgres.StoreOptions{})
	_, err = unchecked.SaveCodes(ctx, "wi-1", alice, 0, as, time.Minute)
	if !errors.As(err, &de) || de.Kind != workitem.Internal {
		t.Errorf("SaveCodes on a store without a checker = %v, want Internal", err)
	}
}
