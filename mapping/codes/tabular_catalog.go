package codes

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"
)

// tabularTree is the content of one icd10cm-tabular release in a Catalog:
// every node by ID, and the <diag> nodes by code.
type tabularTree struct {
	nodes  map[int]TabularNode
	byCode map[string]int
}

func newTabularTree() *tabularTree {
	return &tabularTree{nodes: map[int]TabularNode{}, byCode: map[string]int{}}
}

func (t *tabularTree) add(n TabularNode) {
	t.nodes[n.ID] = n
	if n.Kind == NodeDiag {
		t.byCode[n.Name] = n.ID
	}
}

// chain returns the node of code (or the nearest node above it: its
// longest prefix that is a <diag>) and every node above it, the chapter
// first; nil when no prefix of code is in the tree.
func (t *tabularTree) chain(code string) []TabularNode {
	for n := len(code); n > 0; n-- {
		id, ok := t.byCode[code[:n]]
		if !ok {
			continue
		}
		var out []TabularNode
		for id != 0 {
			node, ok := t.nodes[id]
			if !ok {
				break
			}
			out = append(out, node)
			id = node.Parent
		}
		slices.Reverse(out)
		return out
	}
	return nil
}

// loadTabular reads a Tabular List XML into t, refusing a file of another
// fiscal year (ReadTabularFor).
func loadTabular(t *table, r io.Reader, sc *ShapeCheck) error {
	t.tabular = newTabularTree()
	return ReadTabularFor(r, t.rel, func(n TabularNode) error {
		if n.Kind == NodeDiag {
			sc.Add(ICD10CMTabular, n.Name, !n.Leaf)
		}
		t.tabular.add(n)
		return nil
	})
}

// Tabular implements Lookup.
func (c *Catalog) Tabular(ctx context.Context, code string, dos time.Time) (TabularInstructions, error) {
	t := c.inForce(ICD10CMTabular, dos)
	if t == nil {
		return TabularInstructions{}, fmt.Errorf("%s %s: %w", ICD10CMTabular, dos.Format(time.DateOnly), ErrNoRelease)
	}
	code = Normalize(ICD10CM, code)
	chain := t.tabular.chain(code)
	if chain == nil {
		return TabularInstructions{}, fmt.Errorf("%s %s: %w", ICD10CMTabular, Display(ICD10CM, code), ErrNotFound)
	}
	return NewTabularInstructions(t.rel, code, chain), nil
}
