package postgres

import (
	"bufio"
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io"
	"time"

	"github.com/lib/pq"

	"github.com/codebridge/codebridge/mapping/codes"
)

// copyTabular stores an ICD-10-CM Tabular List XML: its nodes into
// code_tabular_nodes, then their notes into code_tabular_notes. One COPY
// runs at a time on a connection, so the file is read twice (r is the
// seekable source LoadRelease digested) rather than held in memory: each
// pass streams (codes.ReadTabular) and keeps one branch of the tree.
func copyTabular(ctx context.Context, tx *sql.Tx, id int64, rel codes.Release, r io.Reader, sc *codes.ShapeCheck, progress func(int)) (int, error) {
	rs, ok := r.(io.ReadSeeker)
	if !ok {
		return 0, fmt.Errorf("icd10cm-tabular: the source must be seekable")
	}
	start, err := rs.Seek(0, io.SeekCurrent)
	if err != nil {
		return 0, fmt.Errorf("icd10cm-tabular: %w", err)
	}
	nodes, err := newCopier(ctx, tx, "code_tabular_nodes", progress, "release_id", "id", "parent", "kind", "name", "description", "leaf")
	if err != nil {
		return 0, err
	}
	n, err := nodes.finish(ctx, codes.ReadTabularFor(bufio.NewReaderSize(rs, 64<<10), rel, func(t codes.TabularNode) error {
		if t.Kind == codes.NodeDiag {
			sc.Add(codes.ICD10CMTabular, t.Name, !t.Leaf)
		}
		return nodes.add(ctx, "", id, t.ID, nullID(t.Parent), string(t.Kind), t.Name, t.Desc, t.Leaf)
	}))
	if err != nil {
		return 0, err
	}
	if _, err := rs.Seek(start, io.SeekStart); err != nil {
		return 0, fmt.Errorf("icd10cm-tabular: rewind: %w", err)
	}
	after := progress
	if progress != nil {
		after = func(k int) { progress(n + k) }
	}
	notes, err := newCopier(ctx, tx, "code_tabular_notes", after, "release_id", "node_id", "seq", "kind", "chr", "text")
	if err != nil {
		return 0, err
	}
	m, err := notes.finish(ctx, codes.ReadTabularFor(bufio.NewReaderSize(rs, 64<<10), rel, func(t codes.TabularNode) error {
		for i, note := range t.Notes {
			if err := notes.add(ctx, "", id, t.ID, i+1, string(note.Kind), note.Char, note.Text); err != nil {
				return err
			}
		}
		return nil
	}))
	return n + m, err
}

// nullID stores the parent 0 of a chapter as NULL.
func nullID(id int) driver.Value {
	if id == 0 {
		return nil
	}
	return int64(id)
}

// Tabular implements codes.Lookup.
func (s *CodeStore) Tabular(ctx context.Context, code string, dos time.Time) (codes.TabularInstructions, error) {
	return codeLookup{s: s, q: s.db}.Tabular(ctx, code, dos)
}

// Tabular implements codes.Lookup with the semantics of
// codes.Catalog.Tabular: the code's node is its longest prefix that is a
// <diag> of the release in force, and one recursive query reads it, the
// nodes above it and all their notes. Answers are cached per release like
// every lookup (callers must not modify the slices they get).
func (l codeLookup) Tabular(ctx context.Context, code string, dos time.Time) (codes.TabularInstructions, error) {
	rr, err := l.mustInForce(ctx, codes.ICD10CMTabular, dos)
	if err != nil {
		return codes.TabularInstructions{}, err
	}
	code = codes.Normalize(codes.ICD10CM, code)
	k := lookupKey{kind: 't', rel: rr.id, a: code}
	if v, ok := l.s.cache.get(k); ok {
		if v == nil {
			return codes.TabularInstructions{}, fmt.Errorf("%s %s: %w", codes.ICD10CMTabular, codes.Display(codes.ICD10CM, code), codes.ErrNotFound)
		}
		return v.(codes.TabularInstructions), nil
	}
	chain, err := l.tabularChain(ctx, rr.id, code)
	if err != nil {
		return codes.TabularInstructions{}, fmt.Errorf("%s %s: %w", codes.ICD10CMTabular, codes.Display(codes.ICD10CM, code), err)
	}
	if chain == nil {
		l.s.cache.put(k, nil)
		return codes.TabularInstructions{}, fmt.Errorf("%s %s: %w", codes.ICD10CMTabular, codes.Display(codes.ICD10CM, code), codes.ErrNotFound)
	}
	in := codes.NewTabularInstructions(rr.rel, code, chain)
	l.s.cache.put(k, in)
	return in, nil
}

// tabularChain reads the node of code in release rel and the nodes above
// it, the chapter first, each with its notes; nil when no prefix of code
// is a <diag> of the release.
func (l codeLookup) tabularChain(ctx context.Context, rel int64, code string) ([]codes.TabularNode, error) {
	prefixes := make([]string, 0, len(code))
	for n := 1; n <= len(code); n++ {
		prefixes = append(prefixes, code[:n])
	}
	rows, err := l.q.QueryContext(ctx, `WITH RECURSIVE up AS (
			(SELECT id, parent, 0 AS depth FROM code_tabular_nodes
			 WHERE release_id = $1 AND kind = 'diag' AND name = ANY($2)
			 ORDER BY length(name) DESC LIMIT 1)
			UNION ALL
			SELECT n.id, n.parent, up.depth + 1 FROM code_tabular_nodes n
			JOIN up ON n.release_id = $1 AND n.id = up.parent)
		SELECT n.id, coalesce(n.parent, 0), n.kind, n.name, n.description, n.leaf, t.kind, t.chr, t.text
		FROM up JOIN code_tabular_nodes n ON n.release_id = $1 AND n.id = up.id
		LEFT JOIN code_tabular_notes t ON t.release_id = $1 AND t.node_id = up.id
		ORDER BY up.depth DESC, t.seq`, rel, pq.Array(prefixes))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var chain []codes.TabularNode
	for rows.Next() {
		var n codes.TabularNode
		var kind, chr, text sql.NullString
		if err := rows.Scan(&n.ID, &n.Parent, &n.Kind, &n.Name, &n.Desc, &n.Leaf, &kind, &chr, &text); err != nil {
			return nil, err
		}
		if len(chain) == 0 || chain[len(chain)-1].ID != n.ID {
			chain = append(chain, n)
		}
		if kind.Valid {
			last := &chain[len(chain)-1]
			last.Notes = append(last.Notes, codes.TabularNote{Kind: codes.NoteKind(kind.String), Char: chr.String, Text: text.String})
		}
	}
	return chain, rows.Err()
}
