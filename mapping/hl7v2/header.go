package hl7v2

import (
	"bytes"
	"strings"
)

// Header holds the MSH fields a receiver routes and acknowledges on, unescaped.
type Header struct {
	SendingApp, SendingFacility, ReceivingApp, ReceivingFacility string // MSH-3..6, first component
	Time                                                         string // MSH-7 raw TS
	Type, Trigger, Structure                                     string // MSH-9.1, MSH-9.2, MSH-9.3
	ControlID                                                    string // MSH-10
	ProcessingID                                                 string // MSH-11
	Version                                                      string // MSH-12.1
	AcceptAck, AppAck                                            string // MSH-15, MSH-16 (empty in original mode)
	Charset                                                      string // MSH-18
}

// Enhanced reports whether the sender asked for enhanced-mode acknowledgment
// (MSH-15 or MSH-16 present); otherwise original mode applies.
func (h Header) Enhanced() bool { return h.AcceptAck != "" || h.AppAck != "" }

// readHeader fills m.header from the MSH and checks the fields every
// receiver needs: the message type and the control ID.
func (m *Message) readHeader() error {
	msh := m.segs[0]
	m.header = headerOf(msh)
	switch {
	case msh.Fields() < 9:
		return mshError(9, codeRequired, "MSH segment too short: no message type")
	case strings.TrimSpace(m.header.Type) == "":
		return mshError(9, codeRequired, "message type is empty")
	case msh.Fields() < 10 || strings.TrimSpace(m.header.ControlID) == "":
		return mshError(10, codeRequired, "message control ID is missing")
	}
	return nil
}

// headerOf reads the Header from an MSH segment.
func headerOf(msh *Segment) Header {
	return Header{
		SendingApp:        msh.Value(3, 1),
		SendingFacility:   msh.Value(4, 1),
		ReceivingApp:      msh.Value(5, 1),
		ReceivingFacility: msh.Value(6, 1),
		Time:              msh.Value(7, 1),
		Type:              msh.Value(9, 1),
		Trigger:           msh.Value(9, 2),
		Structure:         msh.Value(9, 3),
		ControlID:         msh.Field(10).String(),
		ProcessingID:      msh.Value(11, 1),
		Version:           msh.Value(12, 1),
		AcceptAck:         msh.Field(15).String(),
		AppAck:            msh.Field(16).String(),
		Charset:           msh.Field(18).String(),
	}
}

// SalvageHeader pulls what it can from a message that Parse refused (MSH fields for the ACK).
// It looks for the first line starting with MSH, takes whatever delimiters
// it finds (standard ones where MSH-2 falls short), and decodes that line as
// MSH-18 says, as UTF-8, or else as Windows-1252. It never fails: what it
// cannot find stays empty.
func SalvageHeader(raw []byte) Header {
	line := findMSH(raw)
	if len(line) < 4 || !validDelimiter(line[3]) {
		return Header{}
	}
	d := salvageDelimiters(line)
	cs, ok := lookupCharset(rawMSH18(line, d))
	if !ok {
		cs = utf8Lenient
	}
	text, cs, err := cs.decode(line)
	if err != nil {
		text, cs, _ = utf8Lenient.decode(line)
	}
	m := &Message{text: text, delims: d, codec: cs}
	seg := &Segment{msg: m, name: "MSH", line: text, cuts: appendCuts(nil, text, d.Field)}
	m.segs = []*Segment{seg}
	return headerOf(seg)
}

// findMSH returns the first line of raw that starts with "MSH", without
// its BOM or line end, or nil.
func findMSH(raw []byte) []byte {
	for rest := bytes.TrimPrefix(raw, bom); len(rest) > 0; {
		line := rest
		if i := bytes.IndexAny(rest, "\r\n"); i >= 0 {
			line, rest = rest[:i], rest[i+1:]
		} else {
			rest = nil
		}
		if bytes.HasPrefix(line, []byte("MSH")) {
			return line
		}
	}
	return nil
}

// salvageDelimiters reads MSH-1/MSH-2 from an MSH line whose field separator
// is valid, using the standard delimiter for any position MSH-2 does not fill
// or fills with an invalid or already taken character.
func salvageDelimiters(line []byte) Delimiters {
	std := StandardDelimiters()
	d := Delimiters{Field: line[3]}
	var taken [256]bool
	taken[d.Field] = true
	slots := []*byte{&d.Component, &d.Repetition, &d.Escape, &d.Subcomponent}
	defaults := []byte{std.Component, std.Repetition, std.Escape, std.Subcomponent}
	enc := line[4:]
	if i := bytes.IndexByte(enc, d.Field); i >= 0 {
		enc = enc[:i]
	}
	for i, p := range slots {
		if i < len(enc) && validDelimiter(enc[i]) && !taken[enc[i]] {
			*p = enc[i]
		} else if !taken[defaults[i]] {
			*p = defaults[i]
		}
		taken[*p] = true
	}
	return d
}
