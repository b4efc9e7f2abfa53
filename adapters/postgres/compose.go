package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// Named SQL composition.
//
// Each table's write is written once, as a fragment: one statement whose
// parameters are named (@now, @item_ids), never numbered. A statement that
// does several writes in one round trip is composed from fragments as
// data-modifying CTEs (compose), which numbers the named parameters $1, $2,
// ... in order of first use; the same name anywhere in the composition is
// the same parameter, so fragments share values (the write time, the new
// items' ids) without knowing each other's positions. The arguments are
// then given by name (statement.exec, statement.args).
//
// Composed statements are package-level values, built once at start-up:
// their texts are a small fixed set, as the per-connection statement cache
// (stmtcache.go) needs. Fragments take rows as arrays (unnest), so one text
// serves one row or many.

// fragment is one SQL statement with named parameters (@name: a letter or
// '_', then letters, digits, '_'). It holds no positional parameter ($1).
// An '@' not followed by a name is left as it is (the operators @>, <@, @@);
// write such an operator with a space before its right operand.
type fragment string

// cte names a fragment in a composition's WITH list; later fragments may
// read what it RETURNS by that name.
type cte struct {
	name string
	sql  fragment
}

// statement is a composed statement: its text with $N parameters, and the
// name of each $N.
type statement struct {
	text  string
	names []string
}

// params are a statement's arguments by name. Names the statement does not
// use are ignored, so one set can serve related statements.
type params map[string]any

// compose builds "WITH with[0].name AS (...), ... main" and numbers the named
// parameters in order of first appearance. It panics on a malformed
// fragment: compositions are package-level values, so a mistake stops the
// program (and every test) at start-up.
func compose(main fragment, with ...cte) statement {
	var b strings.Builder
	for i, c := range with {
		if i == 0 {
			b.WriteString("WITH ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(c.name + " AS (\n" + string(c.sql) + "\n)")
		if i == len(with)-1 {
			b.WriteString("\n")
		}
	}
	b.WriteString(string(main))
	text, names, err := number(b.String())
	if err != nil {
		panic("postgres: compose: " + err.Error())
	}
	return statement{text: text, names: names}
}

// number replaces each @name outside string literals and -- comments by $N, the same N for
// the same name, and lists the names by N.
func number(sql string) (string, []string, error) {
	var out strings.Builder
	var names []string
	index := map[string]int{}
	quoted := false
	for i := 0; i < len(sql); i++ {
		c := sql[i]
		switch {
		case c == '\'':
			quoted = !quoted
		case quoted:
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			j := strings.IndexByte(sql[i:], '\n')
			if j < 0 {
				j = len(sql) - i
			}
			out.WriteString(sql[i : i+j])
			i += j - 1
			continue
		case c == '$' && i+1 < len(sql) && isDigit(sql[i+1]):
			return "", nil, fmt.Errorf("positional parameter at %q: use a named one", clip(sql[i:]))
		case c == '@':
			j := i + 1
			for j < len(sql) && isNameByte(sql[j], j == i+1) {
				j++
			}
			if j == i+1 {
				break // an operator: @>, <@, @@, @ (absolute value)
			}
			name := sql[i+1 : j]
			n, ok := index[name]
			if !ok {
				names = append(names, name)
				n = len(names)
				index[name] = n
			}
			out.WriteString("$" + strconv.Itoa(n))
			i = j - 1
			continue
		}
		out.WriteByte(c)
	}
	if quoted {
		return "", nil, fmt.Errorf("unterminated string literal")
	}
	return out.String(), names, nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isNameByte(c byte, first bool) bool {
	return c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || (!first && isDigit(c))
}

func clip(s string) string {
	if len(s) > 20 {
		return s[:20]
	}
	return s
}

// args are p's values in the statement's parameter order. A parameter p
// lacks is an Internal error (a bug in the caller, not in the data).
func (s statement) args(p params) ([]any, error) {
	out := make([]any, len(s.names))
	for i, name := range s.names {
		v, ok := p[name]
		if !ok {
			return nil, workitem.Errorf(workitem.Internal, "SQL parameter @%s not given", name)
		}
		out[i] = v
	}
	return out, nil
}

// execer is what *sql.DB, *sql.Conn and *sql.Tx share for writes.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// exec runs the statement on e with p's values.
func (s statement) exec(ctx context.Context, e execer, p params) (sql.Result, error) {
	args, err := s.args(p)
	if err != nil {
		return nil, err
	}
	return e.ExecContext(ctx, s.text, args...)
}
