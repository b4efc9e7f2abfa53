package hl7v2

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// ackNow is the fixed clock of the ACK tests.
var ackNow = time.Date(2025, 3, 14, 8, 30, 5, 0, time.FixedZone("CDT", -5*3600))

// ackView is what an ACK says, read back with Parse.
type ackView struct {
	Header   Header
	MSA      []string // MSA-1, MSA-2, MSA-3
	ERR      [][]string
	Segments []string
}

// errView reads ERR-1 (ELD), ERR-2 (ERL) and ERR-3 (CWE) components, ERR-4 and ERR-8.
func errView(s *Segment) []string {
	return []string{
		s.Get("1"), s.Get("1.2"), s.Get("1.3"), s.Get("1.4.1"), s.Get("1.4.2"), s.Get("1.4.3"),
		s.Get("2.1"), s.Get("2.2"), s.Get("2.3"), s.Get("2.4"), s.Get("2.5"),
		s.Get("3.1"), s.Get("3.2"), s.Get("3.3"), s.Get("4"), s.Get("8"),
	}
}

// readACK parses an ACK and extracts its view.
func readACK(t *testing.T, ack []byte) ackView {
	t.Helper()
	if !bytes.HasSuffix(ack, []byte("\r")) || bytes.ContainsRune(ack, '\n') {
		t.Errorf("ACK %q does not end its segments with CR only", ack)
	}
	m := mustParse(t, ack)
	v := ackView{Header: m.Header(), Segments: names(m)}
	msa := m.First("MSA")
	v.MSA = []string{msa.Get("1"), msa.Get("2"), msa.Get("3")}
	for _, e := range m.All("ERR") {
		v.ERR = append(v.ERR, errView(e))
	}
	return v
}

func TestNewACK(t *testing.T) {
	in := mustParse(t, readSample(t, "adt-a01.hl7"))
	header := Header{
		SendingApp: "CODEBRIDGE", SendingFacility: "CBFAC", ReceivingApp: "ADTSYS", ReceivingFacility: "CBHOSP",
		Time: "20250314083005-0500", Type: "ACK", Trigger: "A01", Structure: "ACK", ControlID: "ACK-1",
		ProcessingID: "P", Version: "2.5.1",
	}
	tests := []struct {
		name string
		code string
		errs []ErrDetail
		want ackView
	}{
		{
			name: "AA",
			code: "AA",
			want: ackView{Header: header, MSA: []string{"AA", "CB0001", ""}, Segments: []string{"MSH", "MSA"}},
		},
		{
			name: "AE with two ERR segments",
			code: "AE",
			errs: []ErrDetail{
				{Segment: "PID", Seq: 1, Field: 3, Comp: 1, Code: "101", Text: "patient identifier is missing"},
				{Segment: "DG1", Seq: 2, Field: 3, Code: "103", Text: "diagnosis coding system is not known"},
			},
			want: ackView{
				Header: header, MSA: []string{"AE", "CB0001", ""}, Segments: []string{"MSH", "MSA", "ERR", "ERR"},
				ERR: [][]string{
					{"", "", "", "", "", "", "PID", "1", "3", "1", "1", "101", "patient identifier is missing", "HL70357", "E", "patient identifier is missing"},
					{"", "", "", "", "", "", "DG1", "2", "3", "1", "", "103", "diagnosis coding system is not known", "HL70357", "E", "diagnosis coding system is not known"},
				},
			},
		},
		{
			name: "AR for an unsupported type, no location, default text",
			code: "AR",
			errs: []ErrDetail{{Code: "200"}},
			want: ackView{
				Header: header, MSA: []string{"AR", "CB0001", ""}, Segments: []string{"MSH", "MSA", "ERR"},
				ERR: [][]string{{"", "", "", "", "", "", "", "", "", "", "", "200", "Unsupported message type", "HL70357", "E", ""}},
			},
		},
		{
			name: "AR for a receiver fault, default code, segment-level location",
			code: "AR",
			errs: []ErrDetail{{Segment: "PV1", Text: "the database is unavailable, retry later"}},
			want: ackView{
				Header: header, MSA: []string{"AR", "CB0001", ""}, Segments: []string{"MSH", "MSA", "ERR"},
				ERR: [][]string{{"", "", "", "", "", "", "PV1", "1", "", "", "", "207", "the database is unavailable, retry later", "HL70357", "E", "the database is unavailable, retry later"}},
			},
		},
		{
			name: "AA with a warning and an information",
			code: "AA",
			errs: []ErrDetail{
				{Segment: "MSH", Seq: 1, Field: 10, Code: "207", Text: "message control id already used", Severity: SeverityWarning},
				{Code: "0", Text: "informational", Severity: SeverityInfo},
			},
			want: ackView{
				Header: header, MSA: []string{"AA", "CB0001", ""}, Segments: []string{"MSH", "MSA", "ERR", "ERR"},
				ERR: [][]string{
					{"", "", "", "", "", "", "MSH", "1", "10", "1", "", "207", "message control id already used", "HL70357", "W", "message control id already used"},
					{"", "", "", "", "", "", "", "", "", "", "", "0", "informational", "HL70357", "I", "informational"},
				},
			},
		},
		{
			name: "CA",
			code: "CA",
			want: ackView{Header: header, MSA: []string{"CA", "CB0001", ""}, Segments: []string{"MSH", "MSA"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := readACK(t, NewACK(in, tt.code, "ACK-1", ackNow, tt.errs...))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ACK mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestNewACKBytes pins the exact text of one ACK.
func TestNewACKBytes(t *testing.T) {
	in := mustParse(t, []byte(`MSH|^~\&|APP^1.2.3^ISO|FAC|RAPP|RFAC|20250314||ADT^A03^ADT_A03|MSG\F\7|T|2.5.1|||AL|NE`))
	got := string(NewACK(in, "AE", "A|1", ackNow, ErrDetail{Segment: "PV1", Seq: 1, Field: 45, Code: "102", Text: "discharge time is not a valid TS"}))
	want := `MSH|^~\&|RAPP|RFAC|APP^1.2.3^ISO|FAC|20250314083005-0500||ACK^A03^ACK|A\F\1|T|2.5.1` + "\r" +
		`MSA|AE|MSG\F\7` + "\r" +
		`ERR||PV1^1^45^1|102^discharge time is not a valid TS^HL70357|E||||discharge time is not a valid TS` + "\r"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ACK mismatch (-want +got):\n%s", diff)
	}
}

func TestNewACKVersions(t *testing.T) {
	detail := ErrDetail{Segment: "PID", Seq: 1, Field: 3, Comp: 1, Code: "101", Text: "patient identifier is missing"}
	tests := []struct {
		name    string
		version string
		want    ackView
	}{
		{
			name: "2.3 also fills ERR-1 and MSA-3", version: "2.3",
			want: ackView{
				MSA: []string{"AE", "C1", "patient identifier is missing"},
				ERR: [][]string{{"PID", "1", "3", "101", "patient identifier is missing", "HL70357", "PID", "1", "3", "1", "1", "101", "patient identifier is missing", "HL70357", "E", "patient identifier is missing"}},
			},
		},
		{
			name: "2.4 also fills ERR-1 and MSA-3", version: "2.4",
			want: ackView{
				MSA: []string{"AE", "C1", "patient identifier is missing"},
				ERR: [][]string{{"PID", "1", "3", "101", "patient identifier is missing", "HL70357", "PID", "1", "3", "1", "1", "101", "patient identifier is missing", "HL70357", "E", "patient identifier is missing"}},
			},
		},
		{
			name: "2.5 leaves them empty", version: "2.5",
			want: ackView{
				MSA: []string{"AE", "C1", ""},
				ERR: [][]string{{"", "", "", "", "", "", "PID", "1", "3", "1", "1", "101", "patient identifier is missing", "HL70357", "E", "patient identifier is missing"}},
			},
		},
		{
			name: "2.8 leaves them empty", version: "2.8",
			want: ackView{
				MSA: []string{"AE", "C1", ""},
				ERR: [][]string{{"", "", "", "", "", "", "PID", "1", "3", "1", "1", "101", "patient identifier is missing", "HL70357", "E", "patient identifier is missing"}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := mustParse(t, []byte(`MSH|^~\&|A|B|C|D|20250314||ADT^A01|C1|P|`+tt.version))
			got := readACK(t, NewACK(in, "AE", "ACK-1", ackNow, detail))
			if got.Header.Version != tt.version {
				t.Errorf("MSH-12 = %q, want %q", got.Header.Version, tt.version)
			}
			if diff := cmp.Diff(tt.want, got, ignoreHeaderAndSegments); diff != "" {
				t.Errorf("ACK mismatch (-want +got):\n%s", diff)
			}
		})
	}
	in := mustParse(t, []byte(`MSH|^~\&|A|B|C|D|20250314||ADT^A01|C1`))
	if got := readACK(t, NewACK(in, "AA", "ACK-1", ackNow)).Header.Version; got != DefaultVersion {
		t.Errorf("MSH-12 without a version = %q, want %q", got, DefaultVersion)
	}
}

var ignoreHeaderAndSegments = cmpIgnoreFields("Header", "Segments")

// cmpIgnoreFields ignores fields of ackView.
func cmpIgnoreFields(names ...string) cmp.Option {
	return cmp.FilterPath(func(p cmp.Path) bool {
		for _, n := range names {
			if p.Last().String() == "."+n {
				return true
			}
		}
		return false
	}, cmp.Ignore())
}

// TestNewACKEncoding checks that an ACK speaks the sender's delimiters and
// character set, and escapes what it writes.
func TestNewACKEncoding(t *testing.T) {
	text := "value | with ^ all ~ the \\ delimiters & # and\nlines"
	tests := []struct {
		name      string
		raw       []byte
		prefix    string // the ACK starts with it
		charset   string // Charset of the parsed ACK
		facility  string // ACK MSH-6 = in's MSH-4
		wantBytes string // a byte sequence the ACK must hold
	}{
		{"standard", join(stdMSH), `MSH|^~\&|RCV|RFAC|SND|SFAC|`, "UTF-8", "SFAC", "SFAC"},
		{"custom delimiters", join(`MSH#!@*%#SND#SFAC#RCV#RFAC#20250314##ADT!A01#C1#P#2.5.1`), `MSH#!@*%#RCV#RFAC#SND#SFAC#`, "UTF-8", "SFAC", "ACK!A01!ACK"},
		{"truncation character", join(`MSH|^~\&#|SND|SFAC|RCV|RFAC|20250314||ADT^A01|C1|P|2.7`), `MSH|^~\&#|RCV|`, "UTF-8", "SFAC", `\P\`},
		{"8859/1", join(`MSH|^~\&|SND|CAF` + "\xC9" + `|RCV|RFAC|20250314||ADT^A01|C1|P|2.5.1||||||8859/1`), `MSH|^~\&|RCV|RFAC|SND|CAF` + "\xC9|", "ISO-8859-1", "CAFÉ", "|8859/1\r"},
		{"undeclared Latin-1 answered in kind", join(`MSH|^~\&|SND|CAF` + "\xC9" + `|RCV|RFAC|20250314||ADT^A01|C1|P|2.5.1`), `MSH|^~\&|RCV|RFAC|SND|CAF` + "\xC9|", "WINDOWS-1252", "CAFÉ", "CAF\xC9"},
		{"UTF-8", join(`MSH|^~\&|SND|CAF` + "\xC3\x89" + `|RCV|RFAC|20250314||ADT^A01|C1|P|2.5.1||||||UNICODE UTF-8`), `MSH|^~\&|RCV|RFAC|SND|CAF` + "\xC3\x89|", "UTF-8", "CAFÉ", "|UNICODE UTF-8\r"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := mustParse(t, tt.raw)
			ack := NewACK(in, "AE", "ACK|1", ackNow, ErrDetail{Segment: "PID", Field: 5, Text: text})
			if !bytes.HasPrefix(ack, []byte(tt.prefix)) || !bytes.Contains(ack, []byte(tt.wantBytes)) {
				t.Errorf("ACK %q: want prefix %q and bytes %q", ack, tt.prefix, tt.wantBytes)
			}
			m := mustParse(t, ack)
			errSeg := m.First("ERR")
			got := []string{m.Charset(), m.Header().ReceivingFacility, m.Header().ControlID, errSeg.Get("8"), errSeg.Get("3.2"), string(m.Delimiters().Encoding())}
			want := []string{tt.charset, tt.facility, "ACK|1", text, text, in.Delimiters().Encoding()}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ACK read back mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestNewACKLineFeedInCopiedField is the regression FuzzParse found: a line
// feed Parse kept inside MSH-10 must not end MSA in the ACK.
func TestNewACKLineFeedInCopiedField(t *testing.T) {
	in := mustParse(t, []byte("MSH|^~\\&|S|F\nG|R|G|T||ADT^A01|0\n|P"))
	if got := in.Header().ControlID; got != "0\n" {
		t.Fatalf("MSH-10 = %q, want %q", got, "0\n")
	}
	ack := readACK(t, NewACK(in, "AA", "ACK-1", ackNow))
	got := []string{ack.MSA[1], ack.Header.ReceivingFacility}
	if diff := cmp.Diff([]string{"0\n", "F\nG"}, got); diff != "" {
		t.Errorf("ACK mismatch (-want +got):\n%s", diff)
	}
}

func TestSalvageHeader(t *testing.T) {
	tests := []struct {
		name string
		raw  []byte
		want Header
	}{
		{"nothing", nil, Header{}},
		{"no MSH", []byte("PID|1||X\rPV1|1|I\r"), Header{}},
		{"MSH alone", []byte("MSH"), Header{}},
		{"bad field separator", []byte("MSHA^~\\&A"), Header{}},
		{
			"missing MSH-10", readSample(t, "bad-no-msh10.hl7"),
			Header{SendingApp: "ADTSYS", SendingFacility: "CBHOSP", ReceivingApp: "CODEBRIDGE", ReceivingFacility: "CBFAC",
				Time: "20250314083000-0500", Type: "ADT", Trigger: "A01", Structure: "ADT_A01", ProcessingID: "P", Version: "2.5.1"},
		},
		{
			"unknown character set", readSample(t, "bad-charset.hl7"),
			Header{SendingApp: "ADTSYS", SendingFacility: "CBHOSP", ReceivingApp: "CODEBRIDGE", ReceivingFacility: "CBFAC",
				Time: "20250314083000-0500", Type: "ADT", Trigger: "A01", Structure: "ADT_A01", ControlID: "CB0303", ProcessingID: "P", Version: "2.5.1", Charset: "EBCDIC"},
		},
		{
			"MSH after junk and a BOM", []byte("\xEF\xBB\xBFjunk\r\nMSH|^~\\&|S|F|R|G|T||ORU^R01|X9|P|2.3\rOBX|1"),
			Header{SendingApp: "S", SendingFacility: "F", ReceivingApp: "R", ReceivingFacility: "G", Time: "T", Type: "ORU", Trigger: "R01", ControlID: "X9", ProcessingID: "P", Version: "2.3"},
		},
		{
			"short encoding characters filled with standard ones", []byte(`MSH|^|S^x|F|R|G|T||ADT^A01|X\F\1`),
			Header{SendingApp: "S", SendingFacility: "F", ReceivingApp: "R", ReceivingFacility: "G", Time: "T", Type: "ADT", Trigger: "A01", ControlID: "X|1"},
		},
		{
			"repeated encoding characters replaced", []byte(`MSH#!!!!#S!x#F#R#G#T##ADT!A01#X1`),
			Header{SendingApp: "S", SendingFacility: "F", ReceivingApp: "R", ReceivingFacility: "G", Time: "T", Type: "ADT", Trigger: "A01", ControlID: "X1"},
		},
		{
			"Latin-1 without MSH-18", []byte("MSH|^~\\&|S|CAF\xC9|R|G|T||ADT^A01|X1\rPIDX"),
			Header{SendingApp: "S", SendingFacility: "CAFÉ", ReceivingApp: "R", ReceivingFacility: "G", Time: "T", Type: "ADT", Trigger: "A01", ControlID: "X1"},
		},
		{
			"Latin-1 while UTF-8 is declared", []byte("MSH|^~\\&|S|CAF\xC9|R|G|T||ADT^A01|X1|P|2.5||||||UNICODE UTF-8"),
			Header{SendingApp: "S", SendingFacility: "CAFÉ", ReceivingApp: "R", ReceivingFacility: "G", Time: "T", Type: "ADT", Trigger: "A01", ControlID: "X1", ProcessingID: "P", Version: "2.5", Charset: "UNICODE UTF-8"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, SalvageHeader(tt.raw)); diff != "" {
				t.Errorf("SalvageHeader mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestNewACKFromHeader answers messages Parse refused, from their salvaged header.
func TestNewACKFromHeader(t *testing.T) {
	tests := []struct {
		file string
		want ackView
	}{
		{
			file: "bad-no-msh10.hl7",
			want: ackView{
				Header: Header{SendingApp: "CODEBRIDGE", SendingFacility: "CBFAC", ReceivingApp: "ADTSYS", ReceivingFacility: "CBHOSP",
					Time: "20250314083005-0500", Type: "ACK", Trigger: "A01", Structure: "ACK", ControlID: "ACK-2", ProcessingID: "P", Version: "2.5.1"},
				MSA:      []string{"AE", "", ""},
				Segments: []string{"MSH", "MSA", "ERR"},
				ERR:      [][]string{{"", "", "", "", "", "", "MSH", "1", "10", "1", "", "101", "message control ID is missing", "HL70357", "E", "message control ID is missing"}},
			},
		},
		{
			file: "bad-charset.hl7",
			want: ackView{
				Header: Header{SendingApp: "CODEBRIDGE", SendingFacility: "CBFAC", ReceivingApp: "ADTSYS", ReceivingFacility: "CBHOSP",
					Time: "20250314083005-0500", Type: "ACK", Trigger: "A01", Structure: "ACK", ControlID: "ACK-2", ProcessingID: "P", Version: "2.5.1"},
				MSA:      []string{"AE", "CB0303", ""},
				Segments: []string{"MSH", "MSA", "ERR"},
				ERR:      [][]string{{"", "", "", "", "", "", "MSH", "1", "18", "1", "", "103", "unsupported character set", "HL70357", "E", "unsupported character set"}},
			},
		},
		{
			file: "bad-segment-name.hl7",
			want: ackView{
				Header: Header{SendingApp: "CODEBRIDGE", SendingFacility: "CBFAC", ReceivingApp: "ADTSYS", ReceivingFacility: "CBHOSP",
					Time: "20250314083005-0500", Type: "ACK", Trigger: "A01", Structure: "ACK", ControlID: "ACK-2", ProcessingID: "P", Version: "2.5.1"},
				MSA:      []string{"AE", "CB0302", ""},
				Segments: []string{"MSH", "MSA", "ERR"},
				ERR:      [][]string{{"", "", "", "", "", "", "", "", "", "", "", "100", "segment name must be 3 upper-case letters or digits followed by the field separator", "HL70357", "E", "segment name must be 3 upper-case letters or digits followed by the field separator"}},
			},
		},
		{
			file: "bad-not-msh.hl7",
			want: ackView{
				Header:   Header{Time: "20250314083005-0500", Type: "ACK", Structure: "ACK", ControlID: "ACK-2", ProcessingID: "P", Version: "2.5.1"},
				MSA:      []string{"AE", "", ""},
				Segments: []string{"MSH", "MSA", "ERR"},
				ERR:      [][]string{{"", "", "", "", "", "", "MSH", "1", "", "", "", "100", "message does not start with an MSH segment", "HL70357", "E", "message does not start with an MSH segment"}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			raw := readSample(t, tt.file)
			_, err := Parse(raw)
			pe, ok := err.(*ParseError)
			if !ok {
				t.Fatalf("Parse error = %v, want a *ParseError", err)
			}
			got := readACK(t, NewACKFromHeader(SalvageHeader(raw), "AE", "ACK-2", ackNow, pe.Detail()))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ACK mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewACKFromHeaderCharset(t *testing.T) {
	h := Header{SendingApp: "S", SendingFacility: "CAFÉ", ControlID: "X1", Charset: "8859/1"}
	ack := NewACKFromHeader(h, "AA", "ACK-3", ackNow)
	if !bytes.Contains(ack, []byte("|CAF\xC9|")) || !strings.HasSuffix(strings.Split(string(ack), "\r")[0], "|8859/1") {
		t.Errorf("ACK %q is not in ISO-8859-1 with MSH-18 echoed", ack)
	}
	h.Charset = "EBCDIC"
	ack = NewACKFromHeader(h, "AA", "ACK-3", ackNow)
	if !bytes.Contains(ack, []byte("|CAF\xC3\x89|")) || bytes.Contains(ack, []byte("EBCDIC")) {
		t.Errorf("ACK %q is not UTF-8 without MSH-18 for an unknown character set", ack)
	}
	if diff := cmp.Diff(NewACKFromHeader(Header{}, "AR", "ACK-4", ackNow), NewACK(nil, "AR", "ACK-4", ackNow)); diff != "" {
		t.Errorf("NewACK(nil) mismatch (-want +got):\n%s", diff)
	}
}
