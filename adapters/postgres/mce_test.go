package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
	"github.com/codebridge/codebridge/mapping/codes"
)

// TestCodeStoreMCE loads the bundled MCE v43.1 (JSON extraction) and the
// hand-made extract in the CMS text layout as v43, whose window v43.1
// overlaps by design, and checks that the store answers as the catalog
// does: the release covering the date (v43.1 over v43 from April), the
// newest one after its window with the note, each code's lists with the
// list's age range; that a malformed file is refused with nothing kept;
// and that answers come from the lookup cache once read.
func TestCodeStoreMCE(t *testing.T) {
	db := pgtest.New(t)
	s := postgres.NewCodeStore(db)
	ctx := context.Background()
	cat := codes.NewCatalog()
	files := []struct {
		version string
		data    []byte
		rows    int
	}{
		{"43.1", bundleBytes(t, "mce_v43_1_reference.json"), 6670},
		// The text extract standing for v43: its title page says so.
		{"43", bytes.Replace(readFile(t, "mce_definitions_v43_1_text_layout_extract.txt"), []byte("MCE Version 43.1"), []byte("MCE Version 43"), 1), 20},
	}
	for _, f := range files {
		rel, err := codes.NewRelease(codes.MCE, f.version)
		if err != nil {
			t.Fatal(err)
		}
		res, err := s.LoadRelease(ctx, rel, bytes.NewReader(f.data), nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Rows != f.rows {
			t.Errorf("mce %s: %d rows, want %d", f.version, res.Rows, f.rows)
		}
		if _, err := cat.Load(rel, bytes.NewReader(f.data)); err != nil {
			t.Fatal(err)
		}
	}
	var ages int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM code_mce_ages`).Scan(&ages); err != nil || ages != 8 {
		t.Errorf("code_mce_ages has %d rows (%v), want 4 per release", ages, err)
	}

	type answer struct {
		Version, Note string
		Lists         []codes.MCEListing
	}
	ask := func(t *testing.T, l codes.Lookup, code string, y, m, d int) answer {
		t.Helper()
		f, err := l.MCE(ctx, code, ymd(y, 1, 1).AddDate(0, m-1, d-1))
		if err != nil {
			t.Fatal(err)
		}
		return answer{f.Release.Version, f.Note, f.Lists}
	}
	maternity := []codes.MCEListing{{List: codes.MCEMaternity, Title: "Encounter for full-term uncomplicated delivery", MinAge: 9, MaxAge: 64}}
	for _, tt := range []struct {
		code    string
		y, m, d int
		want    answer
	}{
		{"O80", 2026, 5, 1, answer{"v43.1", "", maternity}},
		{"O80", 2025, 11, 14, answer{"v43", "", maternity}},
		{"O80", 2026, 12, 1, answer{"v43.1", "MCE v43.1 (valid to 2026-09-30) applied: no later MCE release is loaded", maternity}},
		{"D63.1", 2026, 5, 1, answer{"v43.1", "", []codes.MCEListing{{List: codes.MCEManifestation, Title: "Anemia in chronic kidney disease"}}}},
		{"Z51.89", 2025, 11, 14, answer{"v43", "", []codes.MCEListing{{List: codes.MCEUnacceptableAlone, Title: "Encounter for other specified aftercare"}}}},
		{"J20.9", 2026, 5, 1, answer{"v43.1", "", nil}},
	} {
		for name, l := range map[string]codes.Lookup{"catalog": cat, "postgres": s} {
			got := ask(t, l, tt.code, tt.y, tt.m, tt.d)
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b []codes.MCEListing) bool {
				return len(a) == 0 && len(b) == 0 || cmp.Equal(a, b)
			})); diff != "" {
				t.Errorf("%s: %s on %d-%02d-%02d mismatch (-want +got):\n%s", name, tt.code, tt.y, tt.m, tt.d, diff)
			}
		}
	}

	// Cached: a row deleted behind the store's back is still answered
	// by the warm store, not by a cold one.
	if _, err := db.ExecContext(ctx, `DELETE FROM code_mce WHERE code = 'O80'`); err != nil {
		t.Fatal(err)
	}
	if got := ask(t, s, "O80", 2026, 5, 1); len(got.Lists) != 1 {
		t.Errorf("warm store after the delete: %+v, want the cached maternity listing", got)
	}
	if got := ask(t, postgres.NewCodeStore(db), "O80", 2026, 5, 1); len(got.Lists) != 0 {
		t.Errorf("cold store after the delete: %+v, want no lists", got)
	}

	// A malformed file is refused and nothing of it is kept: the release
	// of that version loaded before stays as it was.
	good := string(bundleBytes(t, "mce_v43_1_reference.json"))
	bad := strings.Replace(good, `"maternity": "age 9 through 64 (inclusive)"`, `"maternity": "adults"`, 1)
	mceV431, _ := codes.NewRelease(codes.MCE, "43.1")
	if _, err := s.LoadRelease(ctx, mceV431, bytes.NewReader([]byte(bad)), nil); err == nil || !strings.Contains(err.Error(), "no age range for the maternity list") {
		t.Errorf("malformed MCE file: %v, want the missing age range named", err)
	}
	if _, err := s.LoadRelease(ctx, mceV431, bytes.NewReader([]byte(good[:1000])), nil); err == nil {
		t.Error("truncated MCE file loaded")
	}
	v44, _ := codes.NewRelease(codes.MCE, "44")
	if _, err := s.LoadRelease(ctx, v44, bytes.NewReader([]byte(good)), nil); err == nil || !strings.Contains(err.Error(), `the file is MCE version "43.1", not "v44"`) {
		t.Errorf("the v43.1 file loaded as v44: %v, want refused", err)
	}
	var releases, rows int
	if err := db.QueryRowContext(ctx, `SELECT count(*), (SELECT count(*) FROM code_mce) FROM code_releases WHERE system = 'mce'`).Scan(&releases, &rows); err != nil {
		t.Fatal(err)
	}
	if releases != 2 || rows != 6670+20-2 {
		t.Errorf("after the refused loads: %d MCE releases, %d rows; want 2 and %d", releases, rows, 6670+20-2)
	}

	// No MCE release at all: ErrNoRelease.
	empty := postgres.NewCodeStore(pgtest.New(t))
	if _, err := empty.MCE(ctx, "O80", ymd(2026, 5, 1)); !errors.Is(err, codes.ErrNoRelease) {
		t.Errorf("no MCE release: %v, want ErrNoRelease", err)
	}
}
