package edits

import (
	"strings"

	"github.com/codebridge/codebridge/mapping/codes"
)

// codeFirst applies the "code first" notes (ICD-10-CM Official
// Guidelines I.A.13, I.B.7): the code they are in force for follows a
// diagnosis they name; a manifestation is never first-listed nor alone.
func (k *checker) codeFirst(dxs []tabDx, ordered map[[2]int]bool) {
	for i, d := range dxs {
		if d.in == nil {
			continue
		}
		notes := applicable(d, codes.NoteCodeFirst)
		if len(notes) == 0 {
			continue
		}
		before, after := namedAround(dxs, i, notes)
		at := notes[len(notes)-1].At // the nearest node with such a note
		words := noteGroup(d.in, codes.NoteCodeFirst, at)
		manifestation := isManifestation(d.in)
		switch {
		case before >= 0:
		case after >= 0 && underdosing(dxs[after].code):
			// The note names the drug's codes with intent 6 (E09: "T36-T65 with
			// fifth or sixth character 1-4 or 6"), but an underdosing code is
			// never first-listed (I.C.19.e.5.c) and the codes cannot show
			// whether the underdosed drug is the one the note is about: a
			// person decides, neither order is an error.
			ordered[[2]int{i, after}] = true
			n, _ := namingNote(notes, dxs[after].code)
			k.tabularEdit(TabularCodeFirst, Warning, d.target(), d.in, "code first", n.At, noteGroup(d.in, codes.NoteCodeFirst, n.At),
				"ICD-10-CM %s is listed before %s, which the \"code first\" note at %s names, but %s is an underdosing code, "+
					"never first-listed (ICD-10-CM Official Guidelines I.C.19.e.5.c): confirm whether the note's drug is the one "+
					"underdosed and sequence as the guidelines direct", d.shown(), dxs[after].shown(), n.At, dxs[after].shown())
		case after >= 0:
			ordered[[2]int{i, after}] = true
			n, _ := namingNote(notes, dxs[after].code)
			at = n.At
			k.tabularEdit(TabularCodeFirst, Error, d.target(), d.in, "code first", at, noteGroup(d.in, codes.NoteCodeFirst, at),
				"ICD-10-CM %s is listed before %s, but the \"code first\" note at %s sequences %s first "+
					"(ICD-10-CM Official Guidelines I.A.13 and I.B.7)", d.shown(), dxs[after].shown(), at, dxs[after].shown())
		case manifestation && i == 0:
			k.tabularEdit(TabularCodeFirst, Error, d.target(), d.in, "code first", at, words,
				"ICD-10-CM %s (%s) is a manifestation code, never first-listed or coded alone: code its underlying condition first, "+
					"as the \"code first\" note at %s says (ICD-10-CM Official Guidelines I.A.13)", d.shown(), d.in.Desc, at)
		case len(dxs) == 1 && !optional(notes) && hasRefs(notes):
			k.tabularEdit(TabularCodeFirst, Error, d.target(), d.in, "code first", at, words,
				"ICD-10-CM %s is coded alone, but the \"code first\" note at %s requires the condition it names to be coded "+
					"and sequenced first (ICD-10-CM Official Guidelines I.A.13 and I.B.7)", d.shown(), at)
		case manifestation && hasRefs(notes):
			k.add(TabularEtiologyUnlisted, Warning, d.target(),
				"none of the diagnoses the \"code first\" note at %s names is on the chart: confirm that a diagnosis listed before "+
					"ICD-10-CM %s is its underlying condition (ICD-10-CM Official Guidelines I.A.13)", at, d.shown())
			k.cite(d.in, "code first", at, words)
		}
	}
}

// namedAround returns the first diagnosis before dxs[i] and the first
// after it that notes name, -1 for none.
func namedAround(dxs []tabDx, i int, notes []codes.TabularInstruction) (before, after int) {
	before, after = -1, -1
	for j, o := range dxs {
		switch {
		case j == i || !namedBy(notes, o.code):
		case j < i && before < 0:
			before = j
		case j > i && after < 0:
			after = j
		}
	}
	return before, after
}

// isManifestation reports whether the code's title marks it a
// manifestation: "in diseases classified elsewhere" (I.A.13).
func isManifestation(in *codes.TabularInstructions) bool {
	return strings.Contains(strings.ToLower(in.Desc), "in diseases classified elsewhere")
}

// useAdditional applies the "use additional code" notes (ICD-10-CM
// Official Guidelines I.B.7: "the sequencing rule is the same as the
// etiology/manifestation pair", the additional code is secondary; I.A.13):
// a diagnosis such a note names, listed before the code the note is in
// force for, is an error when it is a code "classified elsewhere" (a
// manifestation, or an infectious agent of B95-B97, never sequenced before
// the condition it qualifies) and a warning otherwise, since the
// first-listed diagnosis is the chief reason for the encounter (Section
// IV.G) and a person confirms the sequence.
func (k *checker) useAdditional(dxs []tabDx, ordered map[[2]int]bool) {
	for i, d := range dxs {
		if d.in == nil {
			continue
		}
		notes := applicable(d, codes.NoteUseAdditionalCode)
		for j := range i {
			o := dxs[j]
			n, ok := namingNote(notes, o.code)
			if !ok || ordered[[2]int{j, i}] {
				continue
			}
			ordered[[2]int{j, i}] = true
			words := noteGroup(d.in, codes.NoteUseAdditionalCode, n.At)
			if elsewhere(o.in) {
				k.tabularEdit(TabularUseAdditional, Error, o.target(), d.in, "use additional code", n.At, words,
					"ICD-10-CM %s (%s) is listed before %s, but the \"use additional code\" note at %s makes it a secondary code "+
						"that follows %s (ICD-10-CM Official Guidelines I.B.7 and I.A.13)", o.shown(), o.in.Desc, d.shown(), n.At, d.shown())
				continue
			}
			k.add(TabularUseAdditional, Warning, o.target(),
				"ICD-10-CM %s is listed before %s, whose \"use additional code\" note at %s names it as a secondary code: confirm "+
					"the sequence (ICD-10-CM Official Guidelines I.B.7: the additional code follows; Section IV.G: the first-listed "+
					"diagnosis is the chief reason for the encounter)", o.shown(), d.shown(), n.At)
			k.cite(d.in, "use additional code", n.At, words)
		}
	}
}

// elsewhere reports whether the code's title says it is "classified
// elsewhere": a manifestation "in diseases classified elsewhere" (I.A.13)
// or an agent "as the cause of diseases classified elsewhere" (B95-B97,
// I.B.7), codes that follow the condition they qualify.
func elsewhere(in *codes.TabularInstructions) bool {
	return in != nil && strings.Contains(strings.ToLower(in.Desc), "diseases classified elsewhere")
}

// namedBy reports whether any of notes refers to code.
func namedBy(notes []codes.TabularInstruction, code string) bool {
	_, ok := namingNote(notes, code)
	return ok
}

// namingNote returns the first of notes that refers to code.
func namingNote(notes []codes.TabularInstruction, code string) (codes.TabularInstruction, bool) {
	for _, n := range notes {
		if names(n, code) {
			return n, true
		}
	}
	return codes.TabularInstruction{}, false
}

func hasRefs(notes []codes.TabularInstruction) bool {
	for _, n := range notes {
		if len(n.Refs) > 0 {
			return true
		}
	}
	return false
}

// applicable returns the notes of kind in force for d that apply to its
// code. The notes of one kind at one node form a group, and a group
// headed "for adverse effects" (T36-T50: "Code first, for adverse
// effects, the nature of the adverse effect, such as: ...") applies only
// to the adverse effect codes, those whose fifth or sixth character
// (codes.IntentChar) is 5: a poisoning (1-4) is itself sequenced first
// (ICD-10-CM Official Guidelines I.C.19.e.5.b) and an adverse effect
// follows the nature of the effect (I.C.19.e.5.a).
func applicable(d tabDx, kind codes.NoteKind) []codes.TabularInstruction {
	notes := d.in.Of(kind)
	if codes.IntentChar(d.code) == '5' {
		return notes
	}
	skip := map[codes.TabularRef]bool{}
	for _, n := range notes {
		if forAdverseEffects(n.Text) {
			skip[n.At] = true
		}
	}
	if len(skip) == 0 {
		return notes
	}
	var out []codes.TabularInstruction
	for _, n := range notes {
		if !skip[n.At] {
			out = append(out, n)
		}
	}
	return out
}

// forAdverseEffects reports whether a note is the "for adverse effects"
// heading of its group (the XML writes it ", for adverse effects, the
// nature of the adverse effect, such as:").
func forAdverseEffects(text string) bool {
	t := strings.ToLower(strings.TrimLeft(text, ",;: "))
	return strings.HasPrefix(t, "for adverse effect")
}

// optional reports whether a "code first" note is conditional: "if
// applicable", "any associated ...", "any ...", "for adverse effects":
// the condition it names may be absent (for an adverse effect the nature
// of the effect is coded first, I.C.19.e.5.a, but a person knows whether
// the record documents one; the edit does not guess).
func optional(notes []codes.TabularInstruction) bool {
	for _, n := range notes {
		t := strings.ToLower(n.Text)
		if forAdverseEffects(n.Text) || strings.Contains(t, "if applicable") || strings.HasPrefix(t, "any ") || strings.Contains(t, " any ") {
			return true
		}
	}
	return false
}

// noteHeadings are the words the printed Tabular List puts before the
// notes of a kind (the XML leaves them out).
var noteHeadings = map[codes.NoteKind]string{
	codes.NoteCodeFirst:         "Code first",
	codes.NoteUseAdditionalCode: "Use additional",
	codes.NoteExcludes1:         "Excludes1:",
	codes.NoteExcludes2:         "Excludes2:",
	codes.NoteCodeAlso:          "Code also",
}

// noteGroup returns the notes of kind at node at as the Tabular prints
// them: "Code first underlying disease, such as: amyloidosis (E85.-);
// metabolic diseases (E70-E88)".
func noteGroup(in *codes.TabularInstructions, kind codes.NoteKind, at codes.TabularRef) string {
	var b strings.Builder
	b.WriteString(noteHeadings[kind])
	sep := " "
	for _, n := range in.Of(kind) {
		if n.At != at {
			continue
		}
		if strings.HasPrefix(n.Text, ",") && sep == " " {
			sep = "" // "Code first, for adverse effects, ..."
		}
		b.WriteString(sep)
		b.WriteString(n.Text)
		sep = "; "
		if strings.HasSuffix(n.Text, ":") {
			sep = " "
		}
	}
	return b.String()
}
