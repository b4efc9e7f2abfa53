package v2fhir

import (
	"errors"
	"fmt"
	"strings"

	"github.com/codebridge/codebridge/mapping/hl7v2"
)

// Kind says how a sender is answered about a message Map refused.
type Kind int

// The kinds of refusal.
const (
	// Invalid is bad content: a required field missing, a malformed date,
	// an unknown coding system or table value. The sender gets AE and must
	// fix the message; re-sending it unchanged fails the same way.
	Invalid Kind = iota + 1
	// Unsupported is a message type, trigger event or HL7 version codebridge
	// does not take. The sender gets AR.
	Unsupported
)

// String names the kind.
func (k Kind) String() string {
	switch k {
	case Invalid:
		return "invalid"
	case Unsupported:
		return "unsupported"
	}
	return "unknown"
}

// HL7 table 0357 codes the mapping reports.
const (
	codeSequence    = "100" // segment sequence error (a required segment is missing)
	codeRequired    = "101" // required field missing
	codeDataType    = "102" // data type error
	codeTable       = "103" // table value not found
	codeMessageType = "200" // unsupported message type
	codeEvent       = "201" // unsupported event code
	codeVersion     = "203" // unsupported version id
)

// Error is a message Map cannot turn into FHIR. Details locate every
// problem found (segment, occurrence, field, component), each with an HL7
// table 0357 code and a text that describes the field, never its value, so
// the wiring can answer with one ERR segment per detail. Error() carries no
// message content either and may be logged.
type Error struct {
	Kind    Kind
	Details []hl7v2.ErrDetail
}

// Error lists the locations and reasons, without message content.
func (e *Error) Error() string {
	parts := make([]string, 0, len(e.Details))
	for _, d := range e.Details {
		parts = append(parts, location(d)+": "+d.Text)
	}
	return "v2fhir: " + e.Kind.String() + ": " + strings.Join(parts, "; ")
}

// location renders an ERR-2 location as "DG1[2]-3.3".
func location(d hl7v2.ErrDetail) string {
	if d.Segment == "" {
		return "message"
	}
	s := d.Segment
	if d.Seq > 1 {
		s += fmt.Sprintf("[%d]", d.Seq)
	}
	if d.Field > 0 {
		s += fmt.Sprintf("-%d", d.Field)
		if d.Comp > 0 {
			s += fmt.Sprintf(".%d", d.Comp)
		}
	}
	return s
}

// KindOf returns the Kind of a Map error, or 0 when err is not one.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}

// problems collects the content errors of one message, so a sender learns
// every bad field at once instead of one per round trip.
type problems struct {
	details []hl7v2.ErrDetail
}

// add records a problem at seg (nil for a missing segment named name).
func (p *problems) add(seg *hl7v2.Segment, name string, field, comp int, code, text string) {
	d := hl7v2.ErrDetail{Segment: name, Seq: 1, Field: field, Comp: comp, Code: code, Text: text}
	if seg != nil {
		d.Segment, d.Seq = seg.Name(), seg.Seq()
	}
	p.details = append(p.details, d)
}

// at records a problem in field (and component) of seg.
func (p *problems) at(seg *hl7v2.Segment, field, comp int, code, text string) {
	p.add(seg, "", field, comp, code, text)
}

// err returns the collected problems as an Invalid *Error, or nil.
func (p *problems) err() error {
	if len(p.details) == 0 {
		return nil
	}
	return &Error{Kind: Invalid, Details: p.details}
}

// unsupported is the Unsupported error of one header field.
func unsupported(field, comp int, code, text string) error {
	return &Error{Kind: Unsupported, Details: []hl7v2.ErrDetail{{Segment: "MSH", Seq: 1, Field: field, Comp: comp, Code: code, Text: text}}}
}
