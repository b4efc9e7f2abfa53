package hl7v2

import (
	"strconv"
	"strings"
)

// Segment is one segment of a Message. A nil *Segment (what First returns for
// an absent segment) reads as a segment with no fields, so
// m.First("PV1").Get("19") is simply "" when there is no PV1.
type Segment struct {
	msg   *Message
	name  string
	index int
	line  string  // the segment's text
	cuts  []int32 // positions of the field separators in line
}

// Name returns the three-character segment name, e.g. "PID".
func (s *Segment) Name() string {
	if s == nil {
		return ""
	}
	return s.name
}

// Index returns the 0-based position of the segment in the message (-1 for
// a nil Segment).
func (s *Segment) Index() int {
	if s == nil {
		return -1
	}
	return s.index
}

// Seq returns the 1-based occurrence of the segment among the segments with
// its name (the second OBX has Seq 2), as an ERR-2 location counts them; 0
// for a nil Segment.
func (s *Segment) Seq() int {
	if s == nil {
		return 0
	}
	n := 1
	for _, o := range s.msg.segs[:s.index] {
		if o.name == s.name {
			n++
		}
	}
	return n
}

// Fields returns the number of the last field present (0 for a segment with
// no fields); Field(Fields()+1) is absent.
func (s *Segment) Fields() int {
	switch {
	case s == nil:
		return 0
	case s.name == "MSH":
		return len(s.cuts) + 1
	}
	return len(s.cuts)
}

// Field returns field n, numbered as the standard numbers it: PID-3 is s.Field(3);
// for MSH, MSH-1 is the field separator and MSH-2 the encoding characters, so MSH-9 is s.Field(9).
// MSH-1 and MSH-2 are returned literally, never split or unescaped.
// Field returns the zero Field when n is out of range.
func (s *Segment) Field(n int) Field {
	if s == nil {
		return Field{}
	}
	k := n // the k-th piece after the name, split at the field separator
	if s.name == "MSH" {
		if n == 1 {
			return Field{raw: s.line[3:4], msg: s.msg, literal: true}
		}
		k = n - 1
	}
	if k < 1 || k > len(s.cuts) {
		return Field{}
	}
	end := len(s.line)
	if k < len(s.cuts) {
		end = int(s.cuts[k])
	}
	return Field{raw: s.line[s.cuts[k-1]+1 : end], msg: s.msg, literal: s.name == "MSH" && n == 2}
}

// Value returns component comp (1-based) of the first repetition of field,
// first subcomponent, unescaped.
func (s *Segment) Value(field, comp int) string {
	return s.Field(field).Rep(0).Comp(comp)
}

// Get returns the value at path "field[.comp[.sub]]" ("3", "5.1", "5.1.2"),
// first repetition, unescaped; "" when the path is malformed or absent.
func (s *Segment) Get(path string) string {
	var n [3]int
	k := 0
	for part := range strings.SplitSeq(path, ".") {
		v, err := strconv.Atoi(part)
		if err != nil || v < 1 || k == len(n) {
			return ""
		}
		n[k] = v
		k++
	}
	switch k {
	case 1:
		return s.Field(n[0]).String()
	case 2:
		return s.Value(n[0], n[1])
	default:
		return s.Field(n[0]).Rep(0).Sub(n[1], n[2])
	}
}

// Field is one field of a Segment: all its repetitions, still escaped. The
// zero Field is an absent field.
type Field struct {
	raw     string
	msg     *Message
	literal bool // MSH-1 and MSH-2: never split or unescaped
}

// Null is the HL7 explicit null: a field sent as two double quotes, which
// asks the receiver to delete the value. Accessors return it verbatim.
const Null = `""`

// Empty reports whether the field is absent or empty.
func (f Field) Empty() bool { return f.raw == "" }

// IsNull reports whether the field is the explicit null "" (see Null).
func (f Field) IsNull() bool { return f.raw == Null }

// Raw returns the field as sent (after character-set conversion), escaped,
// with its repetitions, components and subcomponents.
func (f Field) Raw() string { return f.raw }

// Reps returns the repetitions of the field (separated by ~); none when the
// field is empty.
func (f Field) Reps() []Rep {
	if f.raw == "" {
		return nil
	}
	if f.literal {
		return []Rep{{raw: f.raw, msg: f.msg, literal: true}}
	}
	d := f.msg.delims
	out := make([]Rep, 0, strings.Count(f.raw, string(d.Repetition))+1)
	for r := range strings.SplitSeq(f.raw, string(d.Repetition)) {
		out = append(out, Rep{raw: r, msg: f.msg})
	}
	return out
}

// Rep returns repetition i (0-based), or the zero Rep when absent.
func (f Field) Rep(i int) Rep {
	if f.raw == "" || i < 0 {
		return Rep{}
	}
	if f.literal {
		if i > 0 {
			return Rep{}
		}
		return Rep{raw: f.raw, msg: f.msg, literal: true}
	}
	r, ok := nth(f.raw, f.msg.delims.Repetition, i)
	if !ok {
		return Rep{}
	}
	return Rep{raw: r, msg: f.msg}
}

// String returns the first repetition, component 1, subcomponent 1, unescaped.
func (f Field) String() string { return f.Rep(0).Comp(1) }

// Rep is one repetition of a field, still escaped. The zero Rep is absent.
type Rep struct {
	raw     string
	msg     *Message
	literal bool
}

// Raw returns the repetition as sent, escaped, with its components.
func (r Rep) Raw() string { return r.raw }

// Comp returns component n (1-based), first subcomponent, unescaped.
func (r Rep) Comp(n int) string { return r.Sub(n, 1) }

// Sub returns subcomponent sub of component comp, both 1-based, unescaped.
func (r Rep) Sub(comp, sub int) string {
	if r.raw == "" || comp < 1 || sub < 1 {
		return ""
	}
	if r.literal {
		if comp == 1 && sub == 1 {
			return r.raw
		}
		return ""
	}
	d := r.msg.delims
	c, ok := nth(r.raw, d.Component, comp-1)
	if !ok {
		return ""
	}
	v, ok := nth(c, d.Subcomponent, sub-1)
	if !ok {
		return ""
	}
	return unescape(v, d, r.msg.codec)
}

// Comps returns the number of components in the repetition (0 when empty).
func (r Rep) Comps() int {
	switch {
	case r.raw == "":
		return 0
	case r.literal:
		return 1
	}
	return strings.Count(r.raw, string(r.msg.delims.Component)) + 1
}

// Subs returns the number of subcomponents in component comp (1-based), 0
// when the component is absent or empty.
func (r Rep) Subs(comp int) int {
	if r.raw == "" || comp < 1 {
		return 0
	}
	if r.literal {
		if comp == 1 {
			return 1
		}
		return 0
	}
	c, ok := nth(r.raw, r.msg.delims.Component, comp-1)
	if !ok || c == "" {
		return 0
	}
	return strings.Count(c, string(r.msg.delims.Subcomponent)) + 1
}

// nth returns the i-th (0-based) piece of s split at sep, without allocating.
func nth(s string, sep byte, i int) (string, bool) {
	for ; i > 0; i-- {
		j := strings.IndexByte(s, sep)
		if j < 0 {
			return "", false
		}
		s = s[j+1:]
	}
	if j := strings.IndexByte(s, sep); j >= 0 {
		s = s[:j]
	}
	return s, true
}
