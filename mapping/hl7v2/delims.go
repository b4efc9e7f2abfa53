package hl7v2

// Delimiters are the separators a message declares in MSH-1 and MSH-2.
type Delimiters struct {
	Field        byte // MSH-1, usually '|'
	Component    byte // MSH-2 first character, usually '^'
	Repetition   byte // MSH-2 second character, usually '~'
	Escape       byte // MSH-2 third character, usually '\'
	Subcomponent byte // MSH-2 fourth character, usually '&'
	Truncation   byte // MSH-2 fifth character (v2.7+, usually '#'), 0 when absent
}

// StandardDelimiters returns the delimiters almost every sender uses: |^~\&.
func StandardDelimiters() Delimiters {
	return Delimiters{Field: '|', Component: '^', Repetition: '~', Escape: '\\', Subcomponent: '&'}
}

// Encoding returns the MSH-2 text for d: "^~\&", or five characters when a
// truncation character is set.
func (d Delimiters) Encoding() string {
	b := []byte{d.Component, d.Repetition, d.Escape, d.Subcomponent}
	if d.Truncation != 0 {
		b = append(b, d.Truncation)
	}
	return string(b)
}

// orStandard returns d, or the standard delimiters when d is the zero value.
func (d Delimiters) orStandard() Delimiters {
	if d.Field == 0 {
		return StandardDelimiters()
	}
	return d
}

// isEOL reports whether c ends a segment.
func isEOL(c byte) bool { return c == '\r' || c == '\n' }

// validDelimiter reports whether c may serve as a delimiter: printable ASCII,
// not a space, letter or digit (which would make segment names and values
// ambiguous).
func validDelimiter(c byte) bool {
	switch {
	case c <= ' ' || c >= 0x7f:
		return false
	case c >= '0' && c <= '9', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		return false
	}
	return true
}

// readDelimiters reads MSH-1 and MSH-2 from b, which starts with "MSH".
func readDelimiters(b []byte) (Delimiters, error) {
	if len(b) < 4 || isEOL(b[3]) {
		return Delimiters{}, mshError(1, codeRequired, "MSH segment too short: no field separator")
	}
	fs := b[3]
	if !validDelimiter(fs) {
		return Delimiters{}, mshError(1, codeDataType, "field separator must be printable ASCII, not a space, letter or digit")
	}
	end := 4
	for end < len(b) && b[end] != fs && !isEOL(b[end]) {
		end++
	}
	enc := b[4:end]
	if len(enc) < 4 || len(enc) > 5 {
		return Delimiters{}, mshError(2, codeDataType, "encoding characters must be 4 or 5 characters")
	}
	var seen [256]bool
	seen[fs] = true
	for _, c := range enc {
		if !validDelimiter(c) || seen[c] {
			return Delimiters{}, mshError(2, codeDataType, "encoding characters must be distinct printable ASCII characters, not a space, letter, digit or the field separator")
		}
		seen[c] = true
	}
	d := Delimiters{Field: fs, Component: enc[0], Repetition: enc[1], Escape: enc[2], Subcomponent: enc[3]}
	if len(enc) == 5 {
		d.Truncation = enc[4]
	}
	return d, nil
}
