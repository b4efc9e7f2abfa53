package edits

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestWarningCodes checks that WarningCodes and PersonWarningCodes together
// list, without overlap, every code the engine
// raises with severity Warning (k.add(Code, Warning, ...), and POA_MISSING,
// whose severity is a variable), and no coverage note.
func TestWarningCodes(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	consts := map[string]string{}
	raised := map[string]bool{POAMissing: true}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(af, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.ValueSpec:
				for i, name := range n.Names {
					if i < len(n.Values) {
						if lit, ok := n.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							consts[name.Name] = strings.Trim(lit.Value, `"`)
						}
					}
				}
			case *ast.CallExpr:
				sel, ok := n.Fun.(*ast.SelectorExpr)
				if !ok || (sel.Sel.Name != "add" && sel.Sel.Name != "tabularEdit") || len(n.Args) < 2 {
					return true
				}
				if sev, ok := n.Args[1].(*ast.Ident); ok && sev.Name == "Warning" {
					if code, ok := n.Args[0].(*ast.Ident); ok && code.Name != "code" {
						raised[code.Name] = true
					}
				}
			}
			return true
		})
	}
	var want []string
	for name := range raised {
		v, ok := consts[name]
		if !ok {
			v = name // POAMissing is a value already
		}
		want = append(want, v)
	}
	slices.Sort(want)
	got := append(WarningCodes(), PersonWarningCodes()...)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("WarningCodes() + PersonWarningCodes() = %v, the engine raises warnings %v", got, want)
	}
	for _, c := range PersonWarningCodes() {
		if slices.Contains(WarningCodes(), c) {
			t.Errorf("%s is a warning only a person clears and also an allowable warning", c)
		}
	}
	for _, c := range WarningCodes() {
		if IsCoverageNote(c) {
			t.Errorf("%s is a coverage note, not a chart warning", c)
		}
	}
}
