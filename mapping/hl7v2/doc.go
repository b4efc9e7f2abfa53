// Package hl7v2 parses HL7 v2 messages (ER7, the pipe-delimited encoding)
// and builds their acknowledgments. No Go HL7 v2 library is available from
// the module proxy, so this is a small one written for codebridge's MLLP
// listener: it reads ADT and DFT messages field by field and answers them
// with ACKs. It does no I/O and knows nothing of FHIR or work items: it is
// a format, like fhir/, which is why it sits under mapping/ and not among
// the adapters (mapping/v2fhir and the HL7 v2 use case build on it, and no
// mapping package imports an adapter).
//
//	m, err := hl7v2.Parse(frame)
//	if err != nil {
//		pe := err.(*hl7v2.ParseError) // location + HL7 table 0357 code, no content
//		ack := hl7v2.NewACKFromHeader(hl7v2.SalvageHeader(frame), "AE", id, now, pe.Detail())
//		...
//	}
//	h := m.Header()                        // MSH-9 type/trigger, MSH-10, ...
//	visit := m.First("PV1").Get("19.1")    // "" when PV1 or PV1-19 is absent
//	for _, dg1 := range m.All("DG1") {
//		code, system := dg1.Value(3, 1), dg1.Value(3, 3)
//	}
//	ack := hl7v2.NewACK(m, "AA", id, now)
//
// # Design: keep the text and the offsets, unescape on read
//
// Parse copies the input once, converted to UTF-8, into an immutable string
// (so the caller may reuse its read buffer) and records, per segment, its
// line and the positions of its field separators as int32 offsets: one
// pointer-free slice for the whole message that the garbage collector never
// scans. Nothing else is split or decoded up front. Field, Rep, Comp and Sub
// find repetitions, components and subcomponents by scanning the field's
// text when asked and return substrings of the message, without allocating;
// escape sequences are decoded only in the value that is read, and only that
// value is copied, when it holds one.
//
// Why: a mapping reads a few dozen of a message's hundreds of fields, so
// splitting or unescaping the rest would be wasted work; escapes must be
// decoded after splitting anyway (a \S\ is a caret inside a component, not a
// component separator), so decoding per value on read is both the correct
// order and the cheapest; and an immutable Message is safe to share between
// goroutines. Parsing the 15-segment ADT^A01 sample costs about 10 µs and 6
// allocations (BenchmarkParse), far below the listener's budget.
//
// # Choices where the standard is loose
//
// Segment separators. The standard ends segments with CR. Parse also takes
// LF and CRLF, and skips blank (or whitespace-only) lines anywhere, blank
// lines before the MSH and a UTF-8 byte order mark. A CR always ends a
// segment. A LF ends one only when what follows starts like a segment (three
// upper-case letters or digits, then the field separator or a line end) or
// is blank; otherwise it is taken as a line feed inside a value, which
// careless senders put in notes. So LF-only messages parse, and so do
// CR-separated messages with stray line feeds in their text. When NewACK
// copies such a field, the line feed is written as \.br\.
//
// Delimiters. MSH-1 and MSH-2 may be any printable ASCII characters except
// space, letters and digits (which would make segment names ambiguous), all
// distinct. MSH-2 has 4 characters, or 5 with the v2.7 truncation character;
// values keep a truncation character verbatim and \P\ decodes to it. MSH-1
// and MSH-2 are returned literally by Field(1) and Field(2), never split or
// unescaped.
//
// Segments. A name is three of A-Z and 0-9 (Z-segments are fine). The first
// segment must be MSH and there must be only one: batches (FHS/BHS or
// several MSH) are refused. Parse requires only what every receiver needs to
// answer: MSH-9.1 (message type) and MSH-10 (control ID). The event, version
// and content are left to the caller, so it can answer AR 201/203 or AE with
// the right location instead of a bare parse error.
//
// Character sets. MSH-18 (first repetition, first component, any case) picks
// the decoder: empty or ASCII mean UTF-8; "UNICODE UTF-8" (or UTF-8); 8859/1
// to 8859/9 and 8859/15; CP1252 or WINDOWS-1252, all through
// golang.org/x/text/encoding/charmap. Any other value, UTF-16 and UTF-32
// included, is refused with a ParseError on MSH-18. When MSH-18 is empty or
// ASCII and the bytes are not valid UTF-8, the message is decoded as
// Windows-1252 (a superset of the printable ISO-8859-1 range, what such
// senders almost always mean) and Message.Charset says so; when UTF-8 is
// declared but not sent, Parse refuses the message. Bytes a character set
// leaves undefined (0x81 in Windows-1252) read as U+FFFD. ISO 2022 code
// switching (\C..\ and \M..\ escapes, MSH-18 repetitions) is not supported.
// Every string the accessors return is valid UTF-8.
//
// Escapes. \F\ \S\ \T\ \R\ \E\ decode to the delimiters, \P\ to the
// truncation character, \.br\ to "\n", \Xhh..\ to those bytes in the
// message's character set. \H\ and \N\ (highlighting) are dropped. Anything
// else stays verbatim: other formatting commands (\.sp\, \.in\, ...),
// locally defined \Z..\ sequences, an \X..\ with odd or non-hex digits or
// naming a NUL byte or (in a UTF-8 message) bytes that are not UTF-8, and an
// escape character with no closing partner (so C:\temp\file survives). Escape
// writes \.br\ for "\n" and \X0D\ for "\r", so any text survives
// Escape-then-Parse.
//
// Nulls. The explicit null "" (delete this value) is returned verbatim;
// Field.IsNull reports it, Empty does not.
//
// Errors. A ParseError locates the problem like an ERR-2 (segment, 1-based
// occurrence, field; Position when the segment name itself is bad), carries
// the fitting HL7 table 0357 code, and describes it in fixed words: Error()
// never includes message content, so it can be logged.
//
// Acknowledgments. NewACK answers in the sender's delimiters and character
// set (echoing MSH-18), swaps MSH-3/4 with MSH-5/6 copying all their
// components, echoes MSH-11 and sets MSH-9 to ACK^<trigger>^ACK, MSH-12 to
// the sender's version (2.5.1 when absent) and MSH-7 to the time given, with
// its UTC offset. MSH-15/16 stay empty: acknowledgments are not
// acknowledged. Each ErrDetail becomes an ERR with ERR-2 (location), ERR-3
// (code^text^HL70357), ERR-4 (severity, table 0516: E unless the detail
// says W or I, so an AA can carry a warning) and ERR-8 (text). Versions before 2.5
// read ERR-1 and MSA-3 instead, so for them those are filled too (and the
// later ERR fields are extra data they ignore). SalvageHeader reads what it can from a refused
// message (its first MSH line, decoded as best it can) so that even a bad
// message gets an ACK its sender can match by MSA-2.
package hl7v2
