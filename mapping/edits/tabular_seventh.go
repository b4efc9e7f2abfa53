package edits

import (
	"strings"

	"github.com/codebridge/codebridge/mapping/codes"
)

// seventhChar checks a code below a 7th-character definition (ICD-10-CM
// Official Guidelines I.A.3: "any applicable 7th character is required";
// I.A.4: where a placeholder exists the X must be used; I.A.5: the 7th
// character is always the 7th character of the code, and a code of fewer
// than six characters is filled with the placeholder X). The code's node
// is a leaf of the Tabular List (a header such as S52.5 is DX_HEADER's
// business), so the code is that node, the placeholders and one 7th
// character.
func (k *checker) seventhChar(d tabDx) {
	in := d.in
	if in == nil || in.SevenChr == nil || !in.Leaf || in.Node.Kind != codes.NodeDiag || len(in.Node.Name) > 6 {
		return
	}
	node := in.Node.Name
	fill := 6 - len(node)
	rest := d.code[len(node):]
	def := in.SevenChr
	example := node + strings.Repeat("X", fill) + def.Chars[0].Char
	shownNode := codes.Display(codes.ICD10CM, node)
	var format string
	var args []any
	switch {
	case rest == "":
		format, args = "ICD-10-CM %s is incomplete: it takes a 7th character (%s), after the placeholder X where the code has "+
			"fewer than six characters, e.g. %s (ICD-10-CM Official Guidelines I.A.3, I.A.4, I.A.5)",
			[]any{d.shown(), def.CharList(), codes.Display(codes.ICD10CM, example)}
	case len(d.code) != 7 || strings.Trim(rest[:len(rest)-1], "X") != "" || len(rest)-1 != fill:
		if def.Allows(rest[len(rest)-1]) {
			example = node + strings.Repeat("X", fill) + rest[len(rest)-1:]
		}
		format, args = "ICD-10-CM %s is not a valid code of %s: the 7th character of %s is the seventh character of the code, "+
			"the placeholder X filling the positions before it (ICD-10-CM Official Guidelines I.A.4, I.A.5): e.g. %s",
			[]any{d.shown(), shownNode, shownNode, codes.Display(codes.ICD10CM, example)}
	case !def.Allows(rest[len(rest)-1]):
		format, args = "ICD-10-CM %s: %q is not a 7th character of %s (the definition at %s lists %s)",
			[]any{d.shown(), rest[len(rest)-1:], shownNode, def.At, def.CharList()}
	default:
		return
	}
	k.tabularEdit(TabularSeventhChar, Error, d.target(), in, "7th character (sevenChrDef)", def.At, sevenChrWords(in), format, args...)
}

// sevenChrWords is the 7th-character note and definition in force, as the
// Tabular prints them.
func sevenChrWords(in *codes.TabularInstructions) string {
	var b strings.Builder
	for _, n := range in.Of(codes.NoteSevenChrNote) {
		if n.At == in.SevenChr.At {
			b.WriteString(n.Text)
			b.WriteString(": ")
		}
	}
	for i, ch := range in.SevenChr.Chars {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(ch.Char + " " + ch.Text)
	}
	return b.String()
}
