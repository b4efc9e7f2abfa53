package hl7v2

import (
	"encoding/hex"
	"strings"
)

// Escape encodes s for use as one value (a component or subcomponent) in a
// message with delimiters d: each delimiter becomes its escape sequence
// (\F\ \S\ \T\ \R\ \E\, and \P\ for a truncation character), a line feed
// becomes \.br\ and a carriage return \X0D\, so the text survives a round
// trip through Parse unchanged. The zero Delimiters mean the standard ones.
func Escape(s string, d Delimiters) string {
	d = d.orStandard()
	if !needsEscape(s, d) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		c := s[i]
		code := escapeCode(c, d)
		if code == "" {
			b.WriteByte(c)
			continue
		}
		b.WriteByte(d.Escape)
		b.WriteString(code)
		b.WriteByte(d.Escape)
	}
	return b.String()
}

// needsEscape reports whether s holds any byte Escape must replace.
func needsEscape(s string, d Delimiters) bool {
	for i := 0; i < len(s); i++ {
		if escapeCode(s[i], d) != "" {
			return true
		}
	}
	return false
}

// escapeCode returns the escape sequence body for c, or "" when c is plain.
func escapeCode(c byte, d Delimiters) string {
	switch {
	case c == d.Field:
		return "F"
	case c == d.Component:
		return "S"
	case c == d.Subcomponent:
		return "T"
	case c == d.Repetition:
		return "R"
	case c == d.Escape:
		return "E"
	case d.Truncation != 0 && c == d.Truncation:
		return "P"
	case c == '\n':
		return ".br"
	case c == '\r':
		return "X0D"
	}
	return ""
}

// unescape decodes the escape sequences in one value. Sequences it does not
// know, and an escape character without its closing partner, stay verbatim.
func unescape(s string, d Delimiters, cs *codec) string {
	i := strings.IndexByte(s, d.Escape)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i >= 0 {
		b.WriteString(s[:i])
		rest := s[i+1:]
		j := strings.IndexByte(rest, d.Escape)
		if j < 0 {
			s = s[i:]
			break
		}
		if !decodeEscape(&b, rest[:j], d, cs) {
			b.WriteString(s[i : i+j+2])
		}
		s = rest[j+1:]
		i = strings.IndexByte(s, d.Escape)
	}
	b.WriteString(s)
	return b.String()
}

// decodeEscape writes the text of one escape sequence (without its escape
// characters) to b, or reports false when it does not know the sequence.
func decodeEscape(b *strings.Builder, seq string, d Delimiters, cs *codec) bool {
	switch seq {
	case "F":
		b.WriteByte(d.Field)
	case "S":
		b.WriteByte(d.Component)
	case "T":
		b.WriteByte(d.Subcomponent)
	case "R":
		b.WriteByte(d.Repetition)
	case "E":
		b.WriteByte(d.Escape)
	case "P":
		if d.Truncation == 0 {
			return false
		}
		b.WriteByte(d.Truncation)
	case ".br":
		b.WriteByte('\n')
	case "H", "N": // start and end of highlighting: no plain-text rendering
	default:
		return decodeHex(b, seq, cs)
	}
	return true
}

// decodeHex decodes \Xhh..\: an even number of hex digits naming bytes in the
// message's character set. NUL bytes and bytes that are not text in that
// character set leave the sequence verbatim.
func decodeHex(b *strings.Builder, seq string, cs *codec) bool {
	if len(seq) < 3 || seq[0] != 'X' || len(seq)%2 == 0 {
		return false
	}
	raw, err := hex.DecodeString(seq[1:])
	if err != nil {
		return false
	}
	for _, c := range raw {
		if c == 0 {
			return false
		}
	}
	text, ok := cs.decodeBytes(raw)
	if !ok {
		return false
	}
	b.WriteString(text)
	return true
}
