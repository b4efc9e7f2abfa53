package codes

import (
	"regexp"
	"strings"
)

// TabularInstructions are the Tabular List instructions in force for one
// ICD-10-CM code: the notes of its node and of every node above it, as
// the XML nests them (chapter, section, category, subcategory, code). An
// instructional note written at a chapter, section, category or
// subcategory heading applies to every code below it, the Tabular List's
// convention (the ICD-10-CM Official Guidelines say it of 7th characters,
// I.A.5: "required for all codes within the category, or as the notes in
// the Tabular List instruct"); a sevenChrDef applies to every code below
// it until a deeper one replaces it.
type TabularInstructions struct {
	// Release is the icd10cm-tabular release the instructions come from.
	Release Release `json:"release"`
	// Code is the code asked about, in storage form.
	Code string `json:"code"`
	// Node is the code's own node, or the nearest node above it that the
	// Tabular List has (a code with its 7th character is found at its
	// first six characters, or fewer when placeholders follow).
	Node TabularRef `json:"node"`
	// Desc is Node's description.
	Desc string `json:"desc"`
	// Leaf is true when Node has no subdivisions.
	Leaf bool `json:"leaf"`
	// Notes are the notes in force, from the chapter's down to Node's, in
	// document order within a node. The 7th characters are in SevenChr.
	Notes []TabularInstruction `json:"notes"`
	// SevenChr is the 7th-character definition in force: the nearest one
	// at Node or above it; nil when none applies.
	SevenChr *SevenChrDef `json:"sevenChr,omitempty"`
}

// TabularInstruction is one note in force for a code, with the node it is
// written at and the codes it refers to.
type TabularInstruction struct {
	TabularNote
	At TabularRef `json:"at"`
	// Refs are the codes and ranges the note's text names in parentheses
	// ("(E11.-)", "(F01-F03)", "(E08.42, E09.42)"); empty when it names
	// none.
	Refs []CodeRange `json:"refs,omitempty"`
}

// SevenChrDef is a 7th-character definition in force for a code.
type SevenChrDef struct {
	At TabularRef `json:"at"`
	// Chars are the 7th characters it defines, in document order (Char
	// and Text set).
	Chars []TabularNote `json:"chars"`
	// Notes are the notes written inside the definition.
	Notes []string `json:"notes,omitempty"`
}

// Allows reports whether c is one of the definition's 7th characters.
func (d *SevenChrDef) Allows(c byte) bool {
	for _, ch := range d.Chars {
		if ch.Char[0] == c {
			return true
		}
	}
	return false
}

// CharList returns the 7th characters as "A, D, S".
func (d *SevenChrDef) CharList() string {
	out := make([]string, len(d.Chars))
	for i, ch := range d.Chars {
		out[i] = ch.Char
	}
	return strings.Join(out, ", ")
}

// Of returns the notes of kind in force, chapter's first.
func (in TabularInstructions) Of(kind NoteKind) []TabularInstruction {
	var out []TabularInstruction
	for _, n := range in.Notes {
		if n.Kind == kind {
			out = append(out, n)
		}
	}
	return out
}

// NewTabularInstructions builds the instructions in force for code from
// chain: the node found for code and the nodes above it, the chapter
// first and each the parent of the next. Catalog and the PostgreSQL store
// both answer Lookup.Tabular with it.
func NewTabularInstructions(rel Release, code string, chain []TabularNode) TabularInstructions {
	in := TabularInstructions{Release: rel, Code: Normalize(ICD10CM, code)}
	if len(chain) == 0 {
		return in
	}
	last := chain[len(chain)-1]
	in.Node, in.Desc, in.Leaf = last.Ref(), last.Desc, last.Leaf
	for _, n := range chain {
		var def *SevenChrDef
		for _, note := range n.Notes {
			if note.Kind != NoteSevenChrDef {
				in.Notes = append(in.Notes, TabularInstruction{TabularNote: note, At: n.Ref(), Refs: ParseCodeRefs(note.Text)})
				continue
			}
			if def == nil {
				def = &SevenChrDef{At: n.Ref()}
			}
			if note.Char != "" {
				def.Chars = append(def.Chars, note)
			} else {
				def.Notes = append(def.Notes, note.Text)
			}
		}
		if def != nil && len(def.Chars) > 0 {
			in.SevenChr = def
		}
	}
	return in
}

// CodeRange is a code, category or range of codes a Tabular note names:
// "E10.-" (First = Last = "E10"), "E08.42", "F01-F03", and the
// "E08-E13 with .42" form (Suffix "42": the codes of those categories whose
// characters after the category begin with 42), and the drug and toxin
// form "T36-T65 with fifth or sixth character 1-4 or 6" (Intents "12346":
// only the codes whose intent character, IntentChar, is one of them). A
// reference includes the codes below it.
type CodeRange struct {
	First  string `json:"first"`
	Last   string `json:"last"`
	Suffix string `json:"suffix,omitempty"`
	// Intents are the fifth-or-sixth characters the reference is
	// qualified with, "" when it is not.
	Intents string `json:"intents,omitempty"`
}

// IntentChar returns the character of an ICD-10-CM poisoning, adverse
// effect, underdosing or toxic effect code (T36-T65, either form) that the
// Tabular List's "fifth or sixth character" qualifier speaks of: the
// sixth character (T39.011A: 1, poisoning, accidental; T39.015A: 5,
// adverse effect; T51.0X1A: 1), or the fifth when the placeholder X fills
// the sixth (T51.91XA: 1, the intent character written fifth). It is the
// last character before the 7th character. 0 when code has fewer than
// six characters (a category or subcategory without intent).
func IntentChar(code string) byte {
	code = Normalize(ICD10CM, code)
	if len(code) < 6 {
		return 0
	}
	if code[5] == 'X' {
		return code[4]
	}
	return code[5]
}

// Contains reports whether code (either form) is named by the reference:
// its first characters fall between First and Last, compared at their
// lengths (so "F01-F03" holds F02.80 and "N18.1-N18.4" holds N18.30).
// Codes order as the Tabular List orders them except where a letter
// follows digits in a category (M1A sorts after M19 here, not after M10).
func (r CodeRange) Contains(code string) bool {
	code = Normalize(ICD10CM, code)
	if r.First == "" || len(code) < len(r.First) || code[:len(r.First)] < r.First {
		return false
	}
	if code[:min(len(code), len(r.Last))] > r.Last {
		return false
	}
	if r.Intents != "" {
		c := IntentChar(code)
		if c == 0 || !strings.ContainsRune(r.Intents, rune(c)) {
			return false
		}
	}
	return r.Suffix == "" || len(code) >= 3 && strings.HasPrefix(code[3:], r.Suffix)
}

// String returns the reference in display form.
func (r CodeRange) String() string {
	s := Display(ICD10CM, r.First)
	if r.Last != r.First {
		s += "-" + Display(ICD10CM, r.Last)
	}
	if r.Suffix != "" {
		s += " with ." + r.Suffix
	}
	if r.Intents != "" {
		s += " with fifth or sixth character " + strings.Join(strings.Split(r.Intents, ""), ", ")
	}
	return s
}

var (
	// refCode is one code or category as the Tabular writes it.
	refCode = `[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?`
	// refPattern is a code, a range (hyphen or en dash) or a category
	// with ".-" or "-", and the "with .42" or "with fifth or sixth
	// character 1-4 or 6" qualifier.
	refPattern = regexp.MustCompile(`(` + refCode + `)(?:\s*[-–]\s*(` + refCode + `)(?:\.?-)?|\.?-)?` +
		`(?:\s+with\s+\.([0-9A-Z]{1,4}))?` +
		`(?:\s+with\s+fifth\s+or\s+sixth\s+characters?\s+([0-9](?:(?:\s*[-–,]\s*|,?\s+or\s+)[0-9])*))?`)
	// intentItem is one digit or range of digits of the qualifier.
	intentItem = regexp.MustCompile(`([0-9])(?:\s*[-–]\s*([0-9]))?`)
	parens     = regexp.MustCompile(`\(([^()]*)\)`)
)

// ParseCodeRefs returns the codes and ranges named inside the parentheses
// of a Tabular note: "type 2 diabetes mellitus (E11.-)", "(F01-F03)",
// "(E08.42, E09.42, E10.42)", "diabetes mellitus (E08-E13 with .42)",
// "poisoning due to drug or toxin, if applicable (T36-T65 with fifth or
// sixth character 1-4 or 6)" (digits, ranges, commas and "or"). Text
// outside parentheses is prose ("vitamin B12 deficiency" names no code)
// and is not read.
func ParseCodeRefs(text string) []CodeRange {
	var out []CodeRange
	for _, g := range parens.FindAllStringSubmatch(text, -1) {
		in := g[1]
		for _, m := range refPattern.FindAllStringSubmatchIndex(in, -1) {
			if m[0] > 0 && wordChar(in[m[0]-1]) || m[1] < len(in) && wordChar(in[m[1]]) {
				continue // part of a longer word
			}
			r := CodeRange{First: Normalize(ICD10CM, in[m[2]:m[3]])}
			r.Last = r.First
			if m[4] >= 0 {
				r.Last = Normalize(ICD10CM, in[m[4]:m[5]])
			}
			if m[6] >= 0 {
				r.Suffix = in[m[6]:m[7]]
			}
			if m[8] >= 0 {
				r.Intents = parseIntents(in[m[8]:m[9]])
			}
			if ICD10CMFormat(r.First) && ICD10CMFormat(r.Last) && r.First <= r.Last {
				out = append(out, r)
			}
		}
	}
	return out
}

func wordChar(c byte) bool { return alnum(c) || c >= 'a' && c <= 'z' }

// parseIntents expands "1-4 or 6" to "12346" (each digit once, in order).
func parseIntents(s string) string {
	var set [10]bool
	for _, m := range intentItem.FindAllStringSubmatch(s, -1) {
		lo, hi := m[1][0], m[1][0]
		if m[2] != "" {
			hi = m[2][0]
		}
		for c := lo; c <= hi; c++ {
			set[c-'0'] = true
		}
	}
	var b strings.Builder
	for i, ok := range set {
		if ok {
			b.WriteByte(byte('0' + i))
		}
	}
	return b.String()
}
