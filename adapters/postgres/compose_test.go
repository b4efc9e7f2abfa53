package postgres

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/codebridge/codebridge/mapping/workitem"
)

func TestCompose(t *testing.T) {
	for _, tc := range []struct {
		name      string
		main      fragment
		with      []cte
		wantText  string
		wantNames []string
	}{{
		name:      "one fragment",
		main:      `INSERT INTO t (a, b) VALUES (@a, @b)`,
		wantText:  `INSERT INTO t (a, b) VALUES ($1, $2)`,
		wantNames: []string{"a", "b"},
	}, {
		name:      "a name used twice is one parameter",
		main:      `SELECT @x::int + @y + @x`,
		wantText:  `SELECT $1::int + $2 + $1`,
		wantNames: []string{"x", "y"},
	}, {
		name: "CTEs share names and are numbered in order",
		main: `INSERT INTO c SELECT @now, k FROM seq`,
		with: []cte{
			{"a", `INSERT INTO a VALUES (@now, @id_1)`},
			{"seq", `INSERT INTO b VALUES (@id_1, @k) RETURNING k`},
		},
		wantText: "WITH a AS (\nINSERT INTO a VALUES ($1, $2)\n), seq AS (\nINSERT INTO b VALUES ($2, $3) RETURNING k\n)\n" +
			"INSERT INTO c SELECT $1, k FROM seq",
		wantNames: []string{"now", "id_1", "k"},
	}, {
		name:      "string literals, comments and operators are left alone",
		main:      "SELECT 'a@b', 'it''s @x', @y -- at @z, it's\nFROM t WHERE j @> @w AND @ -1 < 2 AND x <@ y",
		wantText:  "SELECT 'a@b', 'it''s @x', $1 -- at @z, it's\nFROM t WHERE j @> $2 AND @ -1 < 2 AND x <@ y",
		wantNames: []string{"y", "w"},
	}, {
		name:     "no parameters",
		main:     `SELECT 1`,
		wantText: `SELECT 1`,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got := compose(tc.main, tc.with...)
			if diff := cmp.Diff(tc.wantText, got.text); diff != "" {
				t.Errorf("text (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantNames, got.names); diff != "" {
				t.Errorf("names (-want +got):\n%s", diff)
			}
		})
	}
}

func TestComposeRefusesMalformedFragments(t *testing.T) {
	for _, tc := range []struct {
		name string
		main fragment
		want string
	}{
		{"positional parameter", `SELECT @a, $2`, "positional parameter"},
		{"unterminated literal", `SELECT 'a`, "unterminated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if msg, _ := r.(string); !strings.Contains(msg, tc.want) {
					t.Errorf("compose(%q) panicked with %v, want a message containing %q", tc.main, r, tc.want)
				}
			}()
			compose(tc.main)
		})
	}
}

func TestStatementArgs(t *testing.T) {
	s := compose(`SELECT @b, @a, @b`)
	got, err := s.args(params{"a": 1, "b": "two", "unused": 3})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]any{"two", 1}, got); diff != "" {
		t.Errorf("args (-want +got):\n%s", diff)
	}
	_, err = s.args(params{"b": "two"})
	var we *workitem.Error
	if !errors.As(err, &we) || we.Kind != workitem.Internal || !strings.Contains(we.Error(), "@a") {
		t.Errorf("args without @a = %v, want an Internal error naming @a", err)
	}
}

// TestWriteStatements pins what the write paths rely on: each table's insert
// appears once per composed statement, the texts carry no unnamed
// parameter, and every parameter is one a caller sets.
func TestWriteStatements(t *testing.T) {
	for _, tc := range []struct {
		name   string
		s      statement
		tables []string
	}{
		{"insertResourceSQL", insertResourceSQL, []string{"resources"}},
		{"insertVersionSQL", insertVersionSQL, []string{"resource_versions"}},
		{"insertIdentifiersSQL", insertIdentifiersSQL, []string{"resource_identifiers"}},
		{"newResourcesSQL", newResourcesSQL, []string{"resources", "resource_versions", "resource_identifiers"}},
		{"enqueueSQL", enqueueSQL, []string{"outbox_keys", "outbox"}},
		{"transitionSQL", transitionSQL, []string{"work_item_history", "outbox_keys", "outbox"}},
		{"newItemsSQL", newItemsSQL, []string{"work_items", "work_item_history", "outbox_keys", "outbox"}},
		{"freshSQL", freshSQL, []string{"resources", "resource_versions", "resource_identifiers", "work_items", "work_item_history", "outbox_keys", "outbox"}},
		{"leaseSQL", leaseSQL, []string{"work_item_history", "outbox_keys", "outbox"}},
		{"leaseChartSQL", leaseChartSQL, []string{"work_item_history", "outbox_keys", "outbox"}},
		{"replaySQL", replaySQL, []string{"outbox_keys"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, table := range []string{"resources", "resource_versions", "resource_identifiers", "work_items", "work_item_history", "outbox_keys", "outbox"} {
				if n := strings.Count(tc.s.text, "INSERT INTO "+table+" "); n > 0 {
					got = append(got, table)
					if n > 1 {
						t.Errorf("INSERT INTO %s %d times", table, n)
					}
				}
			}
			if diff := cmp.Diff(tc.tables, got); diff != "" {
				t.Errorf("tables written (-want +got):\n%s", diff)
			}
			if strings.Contains(tc.s.text, "@") {
				t.Errorf("text keeps a named parameter:\n%s", tc.s.text)
			}
		})
	}
}
