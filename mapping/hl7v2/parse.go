package hl7v2

import (
	"bytes"
	"strings"
)

// Message is one parsed HL7 v2 message. It keeps the message text (converted
// to UTF-8) and, per segment, the boundaries of its fields; values are split
// into repetitions, components and subcomponents and unescaped only when
// read. A Message is immutable and safe for concurrent readers.
type Message struct {
	text   string
	delims Delimiters
	codec  *codec
	segs   []*Segment
	header Header
}

var bom = []byte{0xEF, 0xBB, 0xBF}

// Parse parses one HL7 v2 message (ER7 pipe-delimited). It accepts CR, LF or CRLF
// segment separators, a leading UTF-8 BOM, takes delimiters from MSH-1/MSH-2,
// converts text to UTF-8 from the MSH-18 character set (ASCII, 8859/1, UNICODE UTF-8,
// and Windows-1252 spelled "CP1252"/"WINDOWS-1252"), and keeps values escaped until read.
// The error, when not nil, is a *ParseError. Parse copies what it keeps: the
// caller may reuse raw afterwards.
func Parse(raw []byte) (*Message, error) {
	b := trimLeading(raw)
	if len(b) == 0 {
		return nil, &ParseError{Code: codeSequence, Reason: "empty message"}
	}
	if !bytes.HasPrefix(b, []byte("MSH")) {
		return nil, &ParseError{Segment: "MSH", Seq: 1, Position: 1, Code: codeSequence, Reason: "message does not start with an MSH segment"}
	}
	d, err := readDelimiters(b)
	if err != nil {
		return nil, err
	}
	cs, ok := lookupCharset(rawMSH18(b, d))
	if !ok {
		return nil, mshError(18, codeTable, "unsupported character set")
	}
	text, cs, err := cs.decode(b)
	if err != nil {
		return nil, err
	}
	m := &Message{text: text, delims: d, codec: cs}
	if err := m.split(); err != nil {
		return nil, err
	}
	if err := m.readHeader(); err != nil {
		return nil, err
	}
	return m, nil
}

// trimLeading drops a UTF-8 byte order mark and blank lines before the MSH.
func trimLeading(b []byte) []byte {
	b = bytes.TrimPrefix(b, bom)
	for len(b) > 0 && isEOL(b[0]) {
		b = b[1:]
	}
	return b
}

// rawMSH18 returns the first repetition and component of MSH-18 as bytes in
// the message (the value is ASCII in every supported character set).
func rawMSH18(b []byte, d Delimiters) string {
	line := b[:lineEnd(b, d.Field)]
	// MSH-(k+1) follows the k-th field separator: MSH-18 follows the 17th.
	for n := 0; n < 17; n++ {
		i := bytes.IndexByte(line, d.Field)
		if i < 0 {
			return ""
		}
		line = line[i+1:]
	}
	if i := bytes.IndexByte(line, d.Field); i >= 0 {
		line = line[:i]
	}
	if i := bytes.IndexByte(line, d.Repetition); i >= 0 {
		line = line[:i]
	}
	if i := bytes.IndexByte(line, d.Component); i >= 0 {
		line = line[:i]
	}
	return string(line)
}

// split cuts the text into segments and records where each field ends.
// Blank lines are skipped.
func (m *Message) split() error {
	n := strings.Count(m.text, "\r") + strings.Count(m.text, "\n") + 1
	segs := make([]Segment, 0, n)
	bounds := make([]int, 0, n)
	cuts := make([]int32, 0, strings.Count(m.text, string(m.delims.Field)))
	for rest := m.text; rest != ""; {
		line := rest
		if i := lineEnd(rest, m.delims.Field); i < len(rest) {
			line, rest = rest[:i], rest[i+1:]
		} else {
			rest = ""
		}
		if isBlank(line) {
			continue
		}
		name, err := segmentName(line, m.delims.Field, len(segs)+1)
		if err != nil {
			return err
		}
		bounds = append(bounds, len(cuts))
		cuts = appendCuts(cuts, line, m.delims.Field)
		segs = append(segs, Segment{msg: m, name: name, line: line, index: len(segs)})
	}
	m.segs = make([]*Segment, len(segs))
	for i := range segs {
		end := len(cuts)
		if i+1 < len(bounds) {
			end = bounds[i+1]
		}
		segs[i].cuts = cuts[bounds[i]:end:end]
		m.segs[i] = &segs[i]
	}
	return nil
}

// appendCuts appends the positions of the field separators in line.
func appendCuts(dst []int32, line string, fs byte) []int32 {
	for i := 3; i < len(line); {
		j := strings.IndexByte(line[i:], fs)
		if j < 0 {
			break
		}
		dst = append(dst, int32(i+j))
		i += j + 1
	}
	return dst
}

// lineEnd returns the index of the character that ends the first segment of
// s, or len(s). A CR always ends a segment; a LF ends one when what follows
// starts like a segment (a valid name then the field separator or a line
// end) or is blank, and is otherwise a line feed inside a value (see doc.go).
func lineEnd[T string | []byte](s T, fs byte) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\r':
			return i
		case '\n':
			if startsSegment(s[i+1:], fs) {
				return i
			}
		}
	}
	return len(s)
}

// startsSegment reports whether s, the text after a line feed, begins a
// new segment or a blank line.
func startsSegment[T string | []byte](s T, fs byte) bool {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	if i == len(s) || isEOL(s[i]) {
		return true
	}
	if len(s) < 3 || !validName(s[:3]) {
		return false
	}
	return len(s) == 3 || s[3] == fs || isEOL(s[3])
}

// isBlank reports whether a line holds nothing but spaces and tabs.
func isBlank(line string) bool {
	return strings.Trim(line, " \t") == ""
}

// segmentName validates and returns the name of the segment on line, the
// pos-th segment of the message.
func segmentName(line string, fs byte, pos int) (string, error) {
	if len(line) < 3 || (len(line) > 3 && line[3] != fs) || !validName(line[:3]) {
		return "", &ParseError{Position: pos, Code: codeSequence, Reason: "segment name must be 3 upper-case letters or digits followed by the field separator"}
	}
	name := line[:3]
	if name == "MSH" && pos > 1 {
		return "", &ParseError{Segment: "MSH", Seq: 2, Position: pos, Code: codeSequence, Reason: "a second MSH segment: batches are not supported"}
	}
	return name, nil
}

// validName reports whether s is a valid segment name: three of A-Z, 0-9.
func validName[T string | []byte](s T) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return len(s) == 3
}

// Segments returns the segments in message order.
func (m *Message) Segments() []*Segment { return m.segs }

// All returns every segment named name, in message order.
func (m *Message) All(name string) []*Segment {
	var out []*Segment
	for _, s := range m.segs {
		if s.name == name {
			out = append(out, s)
		}
	}
	return out
}

// First returns the first segment named name, or nil.
func (m *Message) First(name string) *Segment {
	for _, s := range m.segs {
		if s.name == name {
			return s
		}
	}
	return nil
}

// Delimiters returns the delimiters declared in MSH-1 and MSH-2.
func (m *Message) Delimiters() Delimiters { return m.delims }

// Charset names the character set the message was decoded from: "UTF-8",
// "ISO-8859-1", "WINDOWS-1252", ... It is "WINDOWS-1252" too when MSH-18 was
// empty or ASCII but the bytes were not UTF-8 (see the package doc).
func (m *Message) Charset() string { return m.codec.name }

// Header returns the MSH fields, unescaped.
func (m *Message) Header() Header { return m.header }
