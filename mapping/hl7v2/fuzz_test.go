package hl7v2

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse checks that Parse never panics; that a refusal is a *ParseError
// whose Error() can name nothing but a valid segment; that on success every
// accessor over every segment, field, repetition, component and subcomponent
// works and returns valid UTF-8; and that the ACK built for any input, parsed
// or only salvaged, parses back. Seeds: testdata/fuzz/FuzzParse (the
// testdata/hl7v2 samples and edge cases).
func FuzzParse(f *testing.F) {
	f.Add([]byte("MSH|^~\\&|A|B|C|D|20250314||ADT^A01|C1|P|2.5.1\rPID|1||X^^^Y&Z~W\\F\\\\XC3A9\\"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := Parse(raw)
		if err != nil {
			checkRefusal(t, raw, err)
			return
		}
		walk(t, m)
		h := m.Header()
		if h.Type == "" || h.ControlID == "" {
			t.Fatalf("Parse accepted a message without MSH-9 or MSH-10: %+v", h)
		}
		ack, err := Parse(NewACK(m, "AE", "ACK1", ackNow, ErrDetail{Segment: "PID", Field: 3, Code: "101", Text: "x|y^z"}))
		if err != nil {
			t.Fatalf("the ACK does not parse: %v", err)
		}
		if got := ack.First("MSA").Get("1"); got != "AE" {
			t.Fatalf("ACK MSA-1 = %q", got)
		}
		// MSA-2 reads back as MSH-10 unless a character set change or a byte
		// undefined in the character set (read as U+FFFD) made it lossy.
		lossless := m.Charset() == ack.Charset() && !strings.ContainsRune(h.ControlID, utf8.RuneError)
		if lossless && ack.First("MSA").Get("2") != h.ControlID {
			t.Fatalf("ACK MSA-2 = %q, want %q", ack.First("MSA").Get("2"), h.ControlID)
		}
	})
}

// checkRefusal checks a Parse error and that the salvaged ACK parses.
func checkRefusal(t *testing.T, raw []byte, err error) {
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("Parse error %v is not a *ParseError", err)
	}
	if pe.Segment != "" && !validName(pe.Segment) || pe.Reason == "" || pe.Code == "" {
		t.Fatalf("malformed ParseError %+v", pe)
	}
	_ = pe.Error()
	ack := NewACKFromHeader(SalvageHeader(raw), "AR", "ACK1", ackNow, pe.Detail())
	if _, err := Parse(ack); err != nil {
		t.Fatalf("the ACK of a refused message does not parse: %v (%q)", err, ack)
	}
}

// walk calls every accessor on every part of m.
func walk(t *testing.T, m *Message) {
	text := func(s string) {
		if !utf8.ValidString(s) {
			t.Fatalf("accessor returned invalid UTF-8 %q", s)
		}
	}
	if m.First("MSH") != m.Segments()[0] {
		t.Fatal("MSH is not the first segment")
	}
	for i, s := range m.Segments() {
		if s.Index() != i || !validName(s.Name()) || s.Seq() < 1 || len(m.All(s.Name())) < s.Seq() {
			t.Fatalf("segment %d: bad Index/Name/Seq", i)
		}
		for n := -1; n <= s.Fields()+1; n++ {
			f := s.Field(n)
			_, _ = f.Empty(), f.IsNull()
			text(f.String())
			text(s.Value(n, 1))
			text(s.Get(strconv.Itoa(n) + ".2.2"))
			walkField(f, text)
		}
	}
}

// walkField calls every accessor on every repetition, component and
// subcomponent of f.
func walkField(f Field, text func(string)) {
	reps := f.Reps()
	for i := -1; i <= len(reps); i++ {
		r := f.Rep(i)
		for c := -1; c <= r.Comps()+1; c++ {
			text(r.Comp(c))
			for sub := -1; sub <= r.Subs(c)+1; sub++ {
				text(r.Sub(c, sub))
			}
		}
	}
}
