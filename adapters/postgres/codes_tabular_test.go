package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
	"github.com/codebridge/codebridge/mapping/codes"
)

// onlyReader hides a reader's Seek, as a pipe or a download would, so
// LoadRelease spools it.
type onlyReader struct{ io.Reader }

// TestCodeStoreTabular loads the hand-made Tabular List fixture (official
// schema) with COPY and checks that the store answers Lookup.Tabular as
// the in-memory Catalog does for every code of the fixture and a few
// codes below them, on the pool and on a transaction; that a reload of
// the same content changes nothing; and that a broken file keeps nothing.
func TestCodeStoreTabular(t *testing.T) {
	db := pgtest.New(t)
	s := postgres.NewCodeStore(db)
	ctx := context.Background()
	xml := readFile(t, "icd10cm_tabular_fixture.xml")
	rel, err := codes.NewRelease(codes.ICD10CMTabular, "2027")
	if err != nil {
		t.Fatal(err)
	}
	var progress []int
	res, err := s.LoadRelease(ctx, rel, onlyReader{bytes.NewReader(xml)}, func(n int) { progress = append(progress, n) })
	if err != nil {
		t.Fatal(err)
	}
	nodes, notes := count(t, db, `SELECT count(*) FROM code_tabular_nodes`), count(t, db, `SELECT count(*) FROM code_tabular_notes`)
	if nodes != 47 || notes != 75 || res.Rows != nodes+notes || res.Unchanged {
		t.Errorf("loaded %+v: %d nodes, %d notes; want 47 nodes, 75 notes", res, nodes, notes)
	}
	if len(progress) == 0 || progress[len(progress)-1] != res.Rows {
		t.Errorf("progress %v, want it to end at %d", progress, res.Rows)
	}
	if again, err := s.LoadRelease(ctx, rel, bytes.NewReader(xml), nil); err != nil || !again.Unchanged {
		t.Errorf("reload of the same file = %+v, %v; want unchanged", again, err)
	}

	cat := codes.NewCatalog()
	if _, err := cat.Load(rel, bytes.NewReader(xml)); err != nil {
		t.Fatal(err)
	}
	dos := ymd(2026, 11, 2)
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for _, code := range []string{"E10", "E10.9", "E11", "E11.42", "E11.9", "E11.65", "G63", "R40.2112", "R40.2413",
		"S13.4", "S13.4XXA", "S52", "S52.521", "S52.521A", "S52.90XA", "S52.599A", "B96.20", "N39.0"} {
		want, err := cat.Tabular(ctx, code, dos)
		if err != nil {
			t.Fatal(err)
		}
		for name, l := range map[string]codes.Lookup{"pool": s, "cached": s, "tx": s.OnTx(tx)} {
			got, err := l.Tabular(ctx, code, dos)
			if err != nil {
				t.Fatalf("%s: Tabular(%s): %v", name, code, err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s: Tabular(%s) mismatch (-catalog +store):\n%s", name, code, diff)
			}
		}
	}
	if _, err := s.Tabular(ctx, "J20.9", dos); !errors.Is(err, codes.ErrNotFound) {
		t.Errorf("J20.9: %v, want ErrNotFound", err)
	}
	if _, err := s.Tabular(ctx, "E11.9", ymd(2026, 9, 30)); !errors.Is(err, codes.ErrNoRelease) {
		t.Errorf("FY2026 date: %v, want ErrNoRelease", err)
	}

	// A broken file (truncated, or a file of another system, or the
	// Tabular List of another fiscal year) keeps nothing, not even the
	// release row.
	fy2027 := bytes.Replace(xml, []byte("<ICD10CM.tabular>"), []byte("<ICD10CM.tabular>\n<version>2027</version>"), 1)
	if bytes.Equal(fy2027, xml) {
		t.Fatal("the fixture has no <ICD10CM.tabular> root to add a version to")
	}
	before, _ := s.ListReleases(ctx)
	for name, data := range map[string][]byte{
		"truncated":             xml[:len(xml)/2],
		"order file":            orderFile(orderLine{"E119", true, "Type 2 diabetes mellitus without complications"}),
		"FY2027 file as FY2028": fy2027,
	} {
		rel28, _ := codes.NewRelease(codes.ICD10CMTabular, "2028")
		if _, err := s.LoadRelease(ctx, rel28, bytes.NewReader(data), nil); err == nil {
			t.Errorf("%s: loaded, want an error", name)
		}
	}
	after, _ := s.ListReleases(ctx)
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("failed loads changed the releases (-before +after):\n%s", diff)
	}
	if n := count(t, db, `SELECT count(*) FROM code_tabular_nodes`); n != nodes {
		t.Errorf("after failed loads: %d nodes, want %d", n, nodes)
	}
}
