package hl7v2

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestParseRejects checks every refusal: its location, code, reason, and that
// Error() names the position without echoing content (the inputs hold SECRET).
func TestParseRejects(t *testing.T) {
	const rest = `|SECRET|SFAC|RCV|RFAC|20250314||ADT^A01|C1|P|2.5.1`
	tests := []struct {
		name string
		raw  []byte
		want *ParseError
		msg  string
	}{
		{"nil", nil, &ParseError{Code: "100", Reason: "empty message"}, "hl7v2: empty message"},
		{"empty", []byte{}, &ParseError{Code: "100", Reason: "empty message"}, "hl7v2: empty message"},
		{"BOM only", []byte("\xEF\xBB\xBF"), &ParseError{Code: "100", Reason: "empty message"}, "hl7v2: empty message"},
		{"blank lines only", []byte("\r\n\r\n"), &ParseError{Code: "100", Reason: "empty message"}, "hl7v2: empty message"},
		{
			"starts with PID", join("PID|1||SECRET", stdMSH),
			&ParseError{Segment: "MSH", Seq: 1, Position: 1, Code: "100", Reason: "message does not start with an MSH segment"},
			"hl7v2: segment MSH: message does not start with an MSH segment",
		},
		{
			"leading space", []byte(" " + stdMSH),
			&ParseError{Segment: "MSH", Seq: 1, Position: 1, Code: "100", Reason: "message does not start with an MSH segment"}, "",
		},
		{
			"lower-case msh", []byte("msh" + rest),
			&ParseError{Segment: "MSH", Seq: 1, Position: 1, Code: "100", Reason: "message does not start with an MSH segment"}, "",
		},
		{
			"MSH alone", []byte("MSH"),
			&ParseError{Segment: "MSH", Seq: 1, Field: 1, Position: 1, Code: "101", Reason: "MSH segment too short: no field separator"},
			"hl7v2: MSH-1: MSH segment too short: no field separator",
		},
		{
			"MSH then a new line", join("MSH", "PID|1||SECRET"),
			&ParseError{Segment: "MSH", Seq: 1, Field: 1, Position: 1, Code: "101", Reason: "MSH segment too short: no field separator"}, "",
		},
		{
			"digit as field separator", []byte(`MSH1^~\&1SECRET`),
			&ParseError{Segment: "MSH", Seq: 1, Field: 1, Position: 1, Code: "102", Reason: "field separator must be printable ASCII, not a space, letter or digit"},
			"hl7v2: MSH-1: field separator must be printable ASCII, not a space, letter or digit",
		},
		{
			"space as field separator", []byte(`MSH ^~\& SECRET`),
			&ParseError{Segment: "MSH", Seq: 1, Field: 1, Position: 1, Code: "102", Reason: "field separator must be printable ASCII, not a space, letter or digit"}, "",
		},
		{
			"non-ASCII field separator", []byte("MSH\xA6^~\\&\xA6SECRET"),
			&ParseError{Segment: "MSH", Seq: 1, Field: 1, Position: 1, Code: "102", Reason: "field separator must be printable ASCII, not a space, letter or digit"}, "",
		},
		{
			"three encoding characters", []byte(`MSH|^~\` + rest),
			&ParseError{Segment: "MSH", Seq: 1, Field: 2, Position: 1, Code: "102", Reason: "encoding characters must be 4 or 5 characters"},
			"hl7v2: MSH-2: encoding characters must be 4 or 5 characters",
		},
		{
			"six encoding characters", []byte(`MSH|^~\&#$` + rest),
			&ParseError{Segment: "MSH", Seq: 1, Field: 2, Position: 1, Code: "102", Reason: "encoding characters must be 4 or 5 characters"}, "",
		},
		{
			"no encoding characters", []byte("MSH|" + rest),
			&ParseError{Segment: "MSH", Seq: 1, Field: 2, Position: 1, Code: "102", Reason: "encoding characters must be 4 or 5 characters"}, "",
		},
		{
			"repeated encoding character", []byte(`MSH|^^\&` + rest),
			&ParseError{Segment: "MSH", Seq: 1, Field: 2, Position: 1, Code: "102", Reason: "encoding characters must be distinct printable ASCII characters, not a space, letter, digit or the field separator"},
			"hl7v2: MSH-2: encoding characters must be distinct printable ASCII characters, not a space, letter, digit or the field separator",
		},
		{
			"letter as encoding character", []byte(`MSH|^~\A` + rest),
			&ParseError{Segment: "MSH", Seq: 1, Field: 2, Position: 1, Code: "102", Reason: "encoding characters must be distinct printable ASCII characters, not a space, letter, digit or the field separator"}, "",
		},
		{
			"MSH without MSH-9", join(`MSH|^~\&|SECRET|SFAC|RCV|RFAC|20250314`, "PID|1"),
			&ParseError{Segment: "MSH", Seq: 1, Field: 9, Position: 1, Code: "101", Reason: "MSH segment too short: no message type"},
			"hl7v2: MSH-9: MSH segment too short: no message type",
		},
		{
			"MSH with encoding characters only", []byte(`MSH|^~\&`),
			&ParseError{Segment: "MSH", Seq: 1, Field: 9, Position: 1, Code: "101", Reason: "MSH segment too short: no message type"}, "",
		},
		{
			"empty MSH-9", []byte(`MSH|^~\&|SECRET|SFAC|RCV|RFAC|20250314|||C1|P|2.5.1`),
			&ParseError{Segment: "MSH", Seq: 1, Field: 9, Position: 1, Code: "101", Reason: "message type is empty"},
			"hl7v2: MSH-9: message type is empty",
		},
		{
			"MSH-9 without its first component", []byte(`MSH|^~\&|SECRET|SFAC|RCV|RFAC|20250314||^A01|C1|P|2.5.1`),
			&ParseError{Segment: "MSH", Seq: 1, Field: 9, Position: 1, Code: "101", Reason: "message type is empty"}, "",
		},
		{
			"MSH without MSH-10", []byte(`MSH|^~\&|SECRET|SFAC|RCV|RFAC|20250314||ADT^A01`),
			&ParseError{Segment: "MSH", Seq: 1, Field: 10, Position: 1, Code: "101", Reason: "message control ID is missing"},
			"hl7v2: MSH-10: message control ID is missing",
		},
		{
			"blank MSH-10", []byte(`MSH|^~\&|SECRET|SFAC|RCV|RFAC|20250314||ADT^A01|  |P|2.5.1`),
			&ParseError{Segment: "MSH", Seq: 1, Field: 10, Position: 1, Code: "101", Reason: "message control ID is missing"}, "",
		},
		{
			"lower-case segment name", join(stdMSH, "EVN|A01", "pid|1||SECRET"),
			&ParseError{Position: 3, Code: "100", Reason: "segment name must be 3 upper-case letters or digits followed by the field separator"},
			"hl7v2: segment 3: segment name must be 3 upper-case letters or digits followed by the field separator",
		},
		{
			"two-letter segment name", join(stdMSH, "PI|1||SECRET"),
			&ParseError{Position: 2, Code: "100", Reason: "segment name must be 3 upper-case letters or digits followed by the field separator"}, "",
		},
		{
			"four-letter segment name", join(stdMSH, "PIDX|1||SECRET"),
			&ParseError{Position: 2, Code: "100", Reason: "segment name must be 3 upper-case letters or digits followed by the field separator"}, "",
		},
		{
			"punctuation in segment name", join(stdMSH, "P-D|1||SECRET"),
			&ParseError{Position: 2, Code: "100", Reason: "segment name must be 3 upper-case letters or digits followed by the field separator"}, "",
		},
		{
			"segment name followed by another delimiter", join(stdMSH, "PID^1||SECRET"),
			&ParseError{Position: 2, Code: "100", Reason: "segment name must be 3 upper-case letters or digits followed by the field separator"}, "",
		},
		{
			"line starting with the field separator", join(stdMSH, "|SECRET"),
			&ParseError{Position: 2, Code: "100", Reason: "segment name must be 3 upper-case letters or digits followed by the field separator"}, "",
		},
		{
			"batch of two messages", join(stdMSH, "PID|1||SECRET", stdMSH),
			&ParseError{Segment: "MSH", Seq: 2, Position: 3, Code: "100", Reason: "a second MSH segment: batches are not supported"},
			"hl7v2: segment MSH(2): a second MSH segment: batches are not supported",
		},
		{
			"unknown character set", []byte(stdMSH + "||||||EBCDIC\rPID|1||SECRET"),
			&ParseError{Segment: "MSH", Seq: 1, Field: 18, Position: 1, Code: "103", Reason: "unsupported character set"},
			"hl7v2: MSH-18: unsupported character set",
		},
		{
			"UTF-16 declared", []byte(stdMSH + "||||||UNICODE UTF-16\rPID|1||SECRET"),
			&ParseError{Segment: "MSH", Seq: 1, Field: 18, Position: 1, Code: "103", Reason: "unsupported character set"}, "",
		},
		{
			"UTF-8 declared, Latin-1 sent", []byte(stdMSH + "||||||UNICODE UTF-8\rPID|1||SECR\xC9T"),
			&ParseError{Segment: "MSH", Seq: 1, Field: 18, Position: 1, Code: "102", Reason: "message bytes are not valid UTF-8, the declared character set"},
			"hl7v2: MSH-18: message bytes are not valid UTF-8, the declared character set",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse(tt.raw)
			if m != nil {
				t.Errorf("Parse returned a message with error %v", err)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse error = %v, want a *ParseError", err)
			}
			if diff := cmp.Diff(tt.want, pe); diff != "" {
				t.Errorf("ParseError mismatch (-want +got):\n%s", diff)
			}
			if tt.msg != "" && pe.Error() != tt.msg {
				t.Errorf("Error() = %q, want %q", pe.Error(), tt.msg)
			}
			if strings.Contains(pe.Error(), "SECRET") || strings.Contains(pe.Error(), "SECR") {
				t.Errorf("Error() = %q echoes message content", pe.Error())
			}
		})
	}
}

func TestParseErrorDetail(t *testing.T) {
	_, err := Parse([]byte(`MSH|^~\&|A|B|C|D|20250314||ADT^A01`))
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("Parse error = %v, want a *ParseError", err)
	}
	want := ErrDetail{Segment: "MSH", Seq: 1, Field: 10, Code: "101", Text: "message control ID is missing"}
	if diff := cmp.Diff(want, pe.Detail()); diff != "" {
		t.Errorf("Detail mismatch (-want +got):\n%s", diff)
	}
}
