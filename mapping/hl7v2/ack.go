package hl7v2

import (
	"strconv"
	"strings"
	"time"
)

// ErrDetail describes one error to report in an ERR segment of an ACK.
type ErrDetail struct {
	Segment string // ERR-2.1 segment ID, e.g. "PID"; empty for a message-level error
	Seq     int    // ERR-2.2 1-based occurrence of the segment; 0 means 1
	Field   int    // ERR-2.3 field position; 0 for the whole segment
	Comp    int    // ERR-2.5 component number; 0 for the whole field
	// Code is from HL7 table 0357: 100 segment sequence error, 101 required field missing, 102 data type error, 103 table value not found, 200 unsupported message type, 201 unsupported event code, 202 unsupported processing id, 203 unsupported version id, 206 application record locked, 207 application internal error.
	// Empty means 207.
	Code string
	Text string // ERR-3.2 / ERR-8 user message — NO PHI (describe the field, not its value)
	// Severity is ERR-4, from HL7 table 0516: SeverityError,
	// SeverityWarning or SeverityInfo. Empty means SeverityError.
	Severity string
}

// HL7 table 0516 error severities, for ErrDetail.Severity (ERR-4).
const (
	SeverityError   = "E" // the message, or part of it, was not processed
	SeverityWarning = "W" // processed (or acknowledged), with a problem the sender should know of
	SeverityInfo    = "I" // information only
)

// DefaultVersion is the HL7 version an ACK declares when the message it
// answers did not say (MSH-12).
const DefaultVersion = "2.5.1"

// tsLayout formats MSH-7 as an HL7 TS with seconds and the UTC offset.
const tsLayout = "20060102150405-0700"

// table0357 names the HL7 table 0357 codes, for ERR-3.2 when a detail has no text.
var table0357 = map[string]string{
	"0":   "Message accepted",
	"100": "Segment sequence error",
	"101": "Required field missing",
	"102": "Data type error",
	"103": "Table value not found",
	"200": "Unsupported message type",
	"201": "Unsupported event code",
	"202": "Unsupported processing id",
	"203": "Unsupported version id",
	"204": "Unknown key identifier",
	"205": "Duplicate key identifier",
	"206": "Application record locked",
	"207": "Application internal error",
}

// ackSpec is what an ACK copies from the message it answers, already escaped
// for d.
type ackSpec struct {
	d                      Delimiters
	cs                     *codec
	app3, fac4, app5, fac6 string // the ACK's MSH-3..6
	trigger, version       string
	processing, charset    string // MSH-11, MSH-18
	acked                  string // MSA-2: the answered MSH-10
}

// NewACK answers in (in may be nil when the message could not be parsed: then pass the
// best MSH salvage to NewACKFromHeader instead). Code is AA/AE/AR or CA/CE/CR. The ACK's MSH swaps
// sending/receiving app+facility, MSH-9 = ACK^<trigger>^ACK, MSH-10 = controlID,
// MSH-12 = in's version (or 2.5.1), MSA-1 = code, MSA-2 = in's MSH-10, ERR per detail.
// controlID must not be empty (an MSH without MSH-10 is not a valid message).
//
// The ACK uses in's delimiters and character set (echoing MSH-18), copies
// MSH-3..6, MSH-10 and MSH-11 verbatim, and ends every segment with CR. Each
// ERR fills ERR-2 (location), ERR-3 (code^text^HL70357), ERR-4 and ERR-8
// (text), with ERR-4 the detail's severity (E unless it says W or I); for
// versions before 2.5 it also fills ERR-1 and MSA-3, which older
// receivers read instead. A nil in gives the same as NewACKFromHeader with an
// empty Header.
func NewACK(in *Message, code, controlID string, now time.Time, errs ...ErrDetail) []byte {
	if in == nil {
		return NewACKFromHeader(Header{}, code, controlID, now, errs...)
	}
	msh, d := in.segs[0], in.delims
	raw := func(n int) string { return rawCopy(msh.Field(n).Raw(), d) }
	sp := ackSpec{
		d: d, cs: in.codec,
		app3: raw(5), fac4: raw(6), app5: raw(3), fac6: raw(4),
		trigger:    Escape(in.header.Trigger, d),
		version:    Escape(in.header.Version, d),
		processing: raw(11),
		charset:    firstComponent(msh.Field(18)),
		acked:      raw(10),
	}
	return sp.build(code, controlID, now, errs)
}

// rawCopy prepares an escaped field for copying into another message with the
// same delimiters: a line feed, which Parse kept as text, becomes \.br\ so
// that it cannot end a segment there.
func rawCopy(raw string, d Delimiters) string {
	if strings.IndexByte(raw, '\n') < 0 {
		return raw
	}
	return strings.ReplaceAll(raw, "\n", string(d.Escape)+".br"+string(d.Escape))
}

// firstComponent returns the first component of the first repetition of f,
// still escaped: what Parse looked the MSH-18 character set up by.
func firstComponent(f Field) string {
	if f.Empty() {
		return ""
	}
	c, _ := nth(f.Rep(0).Raw(), f.msg.delims.Component, 0)
	return c
}

// NewACKFromHeader builds the ACK NewACK would for a message with header h
// (usually from SalvageHeader), using the standard delimiters and h's
// character set when it is a supported one (UTF-8 otherwise).
func NewACKFromHeader(h Header, code, controlID string, now time.Time, errs ...ErrDetail) []byte {
	d := StandardDelimiters()
	cs, ok := lookupCharset(h.Charset)
	if !ok {
		cs, h.Charset = utf8Lenient, ""
	}
	sp := ackSpec{
		d: d, cs: cs,
		app3: Escape(h.ReceivingApp, d), fac4: Escape(h.ReceivingFacility, d),
		app5: Escape(h.SendingApp, d), fac6: Escape(h.SendingFacility, d),
		trigger:    Escape(h.Trigger, d),
		version:    Escape(h.Version, d),
		processing: Escape(h.ProcessingID, d),
		charset:    Escape(h.Charset, d),
		acked:      Escape(h.ControlID, d),
	}
	return sp.build(code, controlID, now, errs)
}

// build writes the ACK: MSH, MSA, then one ERR per detail.
func (sp ackSpec) build(code, controlID string, now time.Time, errs []ErrDetail) []byte {
	d := sp.d
	comp := string(d.Component)
	version := orDefault(sp.version, DefaultVersion)
	old := beforeV25(version)
	var b strings.Builder
	writeSegment(&b, d, "MSH", d.Encoding(), sp.app3, sp.fac4, sp.app5, sp.fac6,
		now.Format(tsLayout), "", "ACK"+comp+sp.trigger+comp+"ACK", Escape(controlID, d),
		orDefault(sp.processing, "P"), version, "", "", "", "", "", sp.charset)
	msa := []string{"MSA", Escape(code, d), sp.acked}
	if old && len(errs) > 0 {
		msa = append(msa, Escape(orDefault(errs[0].Text, table0357[orDefault(errs[0].Code, "207")]), d))
	}
	writeSegment(&b, d, msa...)
	for _, e := range errs {
		writeSegment(&b, d, errFields(e, d, old)...)
	}
	return sp.cs.encode(b.String())
}

// errFields returns the fields of the ERR segment for e: ERR-2 location,
// ERR-3 code, ERR-4 severity (E when e has none), ERR-8 user message, and
// ERR-1 when old.
func errFields(e ErrDetail, d Delimiters, old bool) []string {
	code := Escape(orDefault(e.Code, "207"), d)
	text := Escape(orDefault(e.Text, table0357[orDefault(e.Code, "207")]), d)
	comp, sub := string(d.Component), string(d.Subcomponent)
	var seg, seq, field string
	if e.Segment != "" {
		seg, seq = Escape(e.Segment, d), strconv.Itoa(max(e.Seq, 1))
		if e.Field > 0 {
			field = strconv.Itoa(e.Field)
		}
	}
	f := make([]string, 9)
	f[0] = "ERR"
	if old { // ERR-1 (ELD): segment^seq^field^code&text&system
		f[1] = strings.Join([]string{seg, seq, field, code + sub + text + sub + "HL70357"}, comp)
	}
	f[2] = errLocation(seg, seq, field, e.Comp, comp)
	f[3] = code + comp + text + comp + "HL70357"
	f[4] = Escape(orDefault(e.Severity, SeverityError), d)
	f[8] = Escape(e.Text, d)
	return f
}

// errLocation formats ERR-2 (ERL): segment^seq^field^fieldrep^component.
func errLocation(seg, seq, field string, compNo int, comp string) string {
	switch {
	case seg == "":
		return ""
	case field == "":
		return seg + comp + seq
	case compNo < 1:
		return seg + comp + seq + comp + field + comp + "1"
	}
	return seg + comp + seq + comp + field + comp + "1" + comp + strconv.Itoa(compNo)
}

// writeSegment writes one segment, dropping trailing empty fields, and a CR.
func writeSegment(b *strings.Builder, d Delimiters, fields ...string) {
	n := len(fields)
	for n > 1 && fields[n-1] == "" {
		n--
	}
	for i, f := range fields[:n] {
		if i > 0 {
			b.WriteByte(d.Field)
		}
		b.WriteString(f)
	}
	b.WriteByte('\r')
}

// beforeV25 reports whether version is an HL7 v2 version before 2.5, which
// has no ERR-2/ERR-3 and reads ERR-1 and MSA-3 instead.
func beforeV25(version string) bool {
	rest, ok := strings.CutPrefix(version, "2.")
	if !ok {
		return false
	}
	end := 0
	for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
		end++
	}
	minor, err := strconv.Atoi(rest[:end])
	return err == nil && minor < 5
}

// orDefault returns s, or def when s is empty.
func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
