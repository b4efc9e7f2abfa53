package hl7v2

import "strconv"

// HL7 table 0357 codes a ParseError carries, for the ERR-3 of the answer.
const (
	codeSequence = "100" // segment sequence error: no MSH first, bad segment name
	codeRequired = "101" // required field missing: MSH-1, MSH-9, MSH-10
	codeDataType = "102" // data type error: bad delimiters, bytes not in the charset
	codeTable    = "103" // table value not found: MSH-18 not a supported charset
)

// ParseError reports why Parse refused a message and where. Segment, Seq and
// Field locate the problem the way an ERR-2 error location does (Seq is the
// 1-based occurrence of that segment name); Position is the 1-based position
// of the offending segment in the message, the only location available when
// the segment name itself is invalid. Code is the HL7 table 0357 error code
// that fits, Reason the problem in words.
//
// Error never includes message content: Segment is filled only with a valid
// segment name, and Reason is one of a fixed set of texts.
type ParseError struct {
	Segment  string // segment name ("MSH"), empty when unknown or invalid
	Seq      int    // 1-based occurrence of Segment in the message, 0 when unknown
	Field    int    // field number as the standard numbers it, 0 for the whole segment
	Position int    // 1-based position of the segment in the message, 0 when unknown
	Code     string // HL7 table 0357: 100, 101, 102 or 103
	Reason   string // what is wrong, without message content
}

// Error describes the position and the problem, e.g. "hl7v2: MSH-10: message
// control ID is missing" or "hl7v2: segment 4: segment name must be ...".
func (e *ParseError) Error() string {
	loc := e.location()
	if loc == "" {
		return "hl7v2: " + e.Reason
	}
	return "hl7v2: " + loc + ": " + e.Reason
}

// Detail returns the ERR detail that reports e in an ACK (AE or AR).
func (e *ParseError) Detail() ErrDetail {
	return ErrDetail{Segment: e.Segment, Seq: e.Seq, Field: e.Field, Code: e.Code, Text: e.Reason}
}

// location renders the position in the standard's notation: "PID-3",
// "OBX(2)-5", "segment PID", "segment 4".
func (e *ParseError) location() string {
	if e.Segment == "" {
		if e.Position > 0 {
			return "segment " + strconv.Itoa(e.Position)
		}
		return ""
	}
	name := e.Segment
	if e.Seq > 1 {
		name += "(" + strconv.Itoa(e.Seq) + ")"
	}
	if e.Field > 0 {
		return name + "-" + strconv.Itoa(e.Field)
	}
	return "segment " + name
}

// mshError is a ParseError located in field n of the (first) MSH segment.
func mshError(field int, code, reason string) *ParseError {
	return &ParseError{Segment: "MSH", Seq: 1, Field: field, Position: 1, Code: code, Reason: reason}
}
