package hl7v2

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// codec turns the bytes of a message into UTF-8 text and back.
type codec struct {
	name string           // canonical name, what Message.Charset reports
	cm   *charmap.Charmap // nil for UTF-8
	// strict is set when the sender declared UTF-8 explicitly: bytes that are
	// not UTF-8 are then an error instead of a reason to fall back.
	strict bool
}

var (
	utf8Lenient = &codec{name: "UTF-8"}
	utf8Strict  = &codec{name: "UTF-8", strict: true}
	fallback    = &codec{name: "WINDOWS-1252", cm: charmap.Windows1252}
)

// charsets maps MSH-18 values (HL7 table 0211, upper-cased, plus a few
// spellings seen in the field) to codecs. Empty and ASCII are lenient UTF-8.
var charsets = map[string]*codec{
	"":              utf8Lenient,
	"ASCII":         utf8Lenient,
	"UNICODE UTF-8": utf8Strict,
	"UTF-8":         utf8Strict,
	"UTF8":          utf8Strict,
	"8859/1":        {name: "ISO-8859-1", cm: charmap.ISO8859_1},
	"8859/2":        {name: "ISO-8859-2", cm: charmap.ISO8859_2},
	"8859/3":        {name: "ISO-8859-3", cm: charmap.ISO8859_3},
	"8859/4":        {name: "ISO-8859-4", cm: charmap.ISO8859_4},
	"8859/5":        {name: "ISO-8859-5", cm: charmap.ISO8859_5},
	"8859/6":        {name: "ISO-8859-6", cm: charmap.ISO8859_6},
	"8859/7":        {name: "ISO-8859-7", cm: charmap.ISO8859_7},
	"8859/8":        {name: "ISO-8859-8", cm: charmap.ISO8859_8},
	"8859/9":        {name: "ISO-8859-9", cm: charmap.ISO8859_9},
	"8859/15":       {name: "ISO-8859-15", cm: charmap.ISO8859_15},
	"CP1252":        fallback,
	"WINDOWS-1252":  fallback,
}

// latin1 is ISO-8859-1 under the other names senders put in MSH-18: the
// IANA name and its aliases, and the DICOM-style "ISO IR100".
var latin1 = charsets["8859/1"]

func init() {
	for _, name := range []string{"ISO-8859-1", "ISO8859-1", "ISO_8859-1", "LATIN1", "LATIN-1", "ISO IR100", "ISO_IR 100", "ISO-IR-100"} {
		charsets[name] = latin1
	}
}

// lookupCharset finds the codec for an MSH-18 value.
func lookupCharset(msh18 string) (*codec, bool) {
	c, ok := charsets[strings.ToUpper(strings.TrimSpace(msh18))]
	return c, ok
}

// decode converts b to UTF-8 text. It returns the codec actually used, which
// differs from c when undeclared bytes were not UTF-8 (see doc.go).
func (c *codec) decode(b []byte) (string, *codec, error) {
	if c.cm != nil {
		return decodeCharmap(c.cm, b), c, nil
	}
	if utf8.Valid(b) {
		return string(b), c, nil
	}
	if c.strict {
		return "", nil, mshError(18, codeDataType, "message bytes are not valid UTF-8, the declared character set")
	}
	return decodeCharmap(fallback.cm, b), fallback, nil
}

// decodeCharmap converts single-byte text to UTF-8.
func decodeCharmap(cm *charmap.Charmap, b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b) + len(b)/8)
	for _, c := range b {
		if c < utf8.RuneSelf {
			sb.WriteByte(c)
			continue
		}
		sb.WriteRune(cm.DecodeByte(c))
	}
	return sb.String()
}

// decodeBytes turns the bytes of a \X..\ escape into text, reporting false
// when they are not valid in the message's character set.
func (c *codec) decodeBytes(b []byte) (string, bool) {
	if c.cm != nil {
		return decodeCharmap(c.cm, b), true
	}
	if !utf8.Valid(b) {
		return "", false
	}
	return string(b), true
}

// encode converts UTF-8 text to the codec's bytes; characters the character
// set cannot represent become '?'.
func (c *codec) encode(s string) []byte {
	if c.cm == nil {
		return []byte(s)
	}
	out := make([]byte, 0, len(s))
	for _, r := range s {
		b, ok := c.cm.EncodeRune(r)
		if !ok {
			b = '?'
		}
		out = append(out, b)
	}
	return out
}
