package hl7v2

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// stdMSH is a minimal valid MSH with the standard delimiters.
const stdMSH = `MSH|^~\&|SND|SFAC|RCV|RFAC|20250314083000||ADT^A01^ADT_A01|C1|P|2.5.1`

// join builds a message from segments, each ended by CR.
func join(segs ...string) []byte { return []byte(strings.Join(segs, "\r") + "\r") }

// mustParse parses b or fails the test.
func mustParse(t testing.TB, b []byte) *Message {
	t.Helper()
	m, err := Parse(b)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return m
}

// readSample returns a file of testdata/hl7v2.
func readSample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "hl7v2", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// lookup reads "PID-5.1" or "DG1(2)-3.1" from m; "<absent>" when the segment is not there.
func lookup(m *Message, key string) string {
	name, path, _ := strings.Cut(key, "-")
	occ := 1
	if seg, n, ok := strings.Cut(name, "("); ok {
		occ, _ = strconv.Atoi(strings.TrimSuffix(n, ")"))
		name = seg
	}
	segs := m.All(name)
	if occ > len(segs) {
		return "<absent>"
	}
	return segs[occ-1].Get(path)
}

// values reads every key of want from m.
func values(m *Message, want map[string]string) map[string]string {
	got := make(map[string]string, len(want))
	for k := range want {
		got[k] = lookup(m, k)
	}
	return got
}

// names lists the segment names of m in order.
func names(m *Message) []string {
	var out []string
	for _, s := range m.Segments() {
		out = append(out, s.Name())
	}
	return out
}

func TestParseSamples(t *testing.T) {
	visitHeader := func(trigger, structure, id, time string) Header {
		return Header{SendingApp: "ADTSYS", SendingFacility: "CBHOSP", ReceivingApp: "CODEBRIDGE", ReceivingFacility: "CBFAC",
			Time: time, Type: "ADT", Trigger: trigger, Structure: structure, ControlID: id, ProcessingID: "P", Version: "2.5.1"}
	}
	tests := []struct {
		file   string
		header Header
		segs   []string
		values map[string]string
	}{
		{
			file:   "adt-a01.hl7",
			header: visitHeader("A01", "ADT_A01", "CB0001", "20250314083000-0500"),
			segs:   []string{"MSH", "EVN", "PID", "PD1", "NK1", "PV1", "PV2", "OBX", "OBX", "AL1", "DG1", "DG1", "GT1", "IN1", "IN2"},
			values: map[string]string{
				"PID-3.1": "CB000123", "PID-3.4": "CBHOSP", "PID-3.5": "MR", "PID-5.1": "ZZTEST", "PID-5.2": "ALEX",
				"PID-7": "19800215", "PID-8": "F", "PV1-2": "I", "PV1-7.1": "1234567893", "PV1-7.2": "ZZDOC", "PV1-7.13": "NPI",
				"PV1-19.1": "V20250314001", "PV1-44": "20250314083000-0500", "PV1-45": "",
				"DG1-3.1": "R10.31", "DG1-3.3": "I10", "DG1-6": "A", "DG1(2)-3.1": "E11.9", "OBX(2)-5": "72",
				"IN1-3.1": "CBINS01", "IN1-36": "POL900000001", "IN1-49.1": "MBR900000001",
			},
		},
		{
			file:   "adt-a03.hl7",
			header: visitHeader("A03", "ADT_A03", "CB0003", "20250317114500-0500"),
			segs:   []string{"MSH", "EVN", "PID", "PV1", "DG1", "DG1", "DG1", "PR1", "IN1"},
			values: map[string]string{
				"PV1-19.1": "V20250314001", "PV1-36": "01", "PV1-45": "20250317114500-0500",
				"DG1-3.1": "K35.80", "DG1(3)-3.1": "N39.0", "PR1-3.1": "0DTJ4ZZ", "PR1-3.3": "I10P", "PR1-11.1": "1543210987",
			},
		},
		{
			file:   "adt-a08.hl7",
			header: visitHeader("A08", "ADT_A01", "CB0002", "20250315090000-0500"),
			segs:   []string{"MSH", "EVN", "PID", "PV1", "DG1", "DG1", "DG1", "IN1"},
			values: map[string]string{"PID-11.1": "200 SAMPLE AVE", "DG1(2)-3.3": "ICD10CM", "DG1(3)-3.3": "ICD-10-CM"},
		},
		{
			file:   "adt-a04.hl7",
			header: visitHeader("A04", "ADT_A01", "CB0006", "20250402100000-0500"),
			segs:   []string{"MSH", "EVN", "PID", "PV1", "DG1", "IN1"},
			values: map[string]string{"PV1-2": "O", "PV1-19.1": "V20250402007"},
		},
		{
			file:   "adt-a11.hl7",
			header: visitHeader("A11", "ADT_A09", "CB0005", "20250314091500-0500"),
			segs:   []string{"MSH", "EVN", "PID", "PV1"},
			values: map[string]string{"EVN-1": "A11", "PV1-19.1": "V20250314001"},
		},
		{
			file:   "adt-a13.hl7",
			header: visitHeader("A13", "ADT_A01", "CB0004", "20250317130000-0500"),
			segs:   []string{"MSH", "EVN", "PID", "PV1"},
			values: map[string]string{"EVN-1": "A13", "PV1-45": ""},
		},
		{
			file: "dft-p03.hl7",
			header: Header{SendingApp: "ADTSYS", SendingFacility: "CBHOSP", ReceivingApp: "CODEBRIDGE", ReceivingFacility: "CBFAC",
				Time: "20250317150000-0500", Type: "DFT", Trigger: "P03", Structure: "DFT_P03", ControlID: "CB0007", ProcessingID: "P", Version: "2.5.1"},
			segs: []string{"MSH", "EVN", "PID", "PV1", "FT1", "FT1", "FT1", "FT1", "DG1", "DG1"},
			values: map[string]string{
				"FT1-6": "CG", "FT1-10": "2", "FT1-19.1": "K35.80", "FT1-25.1": "85025", "FT1-25.3": "C4", "FT1-26.1": "91",
				"FT1(3)-25.1": "71046", "FT1(3)-26.1": "26", "FT1(4)-10": "2", "FT1(4)-26.1": "",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			m := mustParse(t, readSample(t, tt.file))
			if diff := cmp.Diff(tt.header, m.Header()); diff != "" {
				t.Errorf("Header mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.segs, names(m)); diff != "" {
				t.Errorf("segments mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.values, values(m, tt.values)); diff != "" {
				t.Errorf("values mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseOddSamples checks the samples that exercise one parser feature each.
func TestParseOddSamples(t *testing.T) {
	tests := []struct {
		file    string
		charset string
		delims  Delimiters
		values  map[string]string
	}{
		{"adt-a01-lf.hl7", "UTF-8", StandardDelimiters(), map[string]string{"IN2-1": "MBR900000001", "PV1-19.1": "V20250314001"}},
		{"adt-a01-crlf.hl7", "UTF-8", StandardDelimiters(), map[string]string{"IN2-1": "MBR900000001", "PV1-19.1": "V20250314001"}},
		{"adt-a08-bom-utf8.hl7", "UTF-8", StandardDelimiters(), map[string]string{"MSH-18": "UNICODE UTF-8", "PID-5.1": "ZZTÉST-MÜLLER", "PID-5.2": "ZOË", "PID-11.1": "12 RUE DE L’ÉCOLE"}},
		{"adt-a08-8859-1.hl7", "ISO-8859-1", StandardDelimiters(), map[string]string{"MSH-18": "8859/1", "PID-5.1": "ZZTÉST-MÜLLER", "PID-5.2": "ZOË"}},
		{"adt-a08-cp1252.hl7", "WINDOWS-1252", StandardDelimiters(), map[string]string{"MSH-18": "CP1252", "PID-5.1": "ZZTÉST-MÜLLER", "PID-11.1": "12 RUE DE L’ÉCOLE"}},
		{"adt-a08-undeclared-latin1.hl7", "WINDOWS-1252", StandardDelimiters(), map[string]string{"MSH-18": "", "PID-5.1": "ZZTÉST-MÜLLER"}},
		{
			"adt-a01-custom-delims.hl7", "UTF-8",
			Delimiters{Field: '#', Component: '!', Repetition: '@', Escape: '*', Subcomponent: '%'},
			map[string]string{"MSH-9.2": "A01", "PID-3.1": "CB000123", "PID-3.4": "CBHOSP", "PID-11.1": "100 TEST ST # UNIT 2", "PV1-19.1": "V20250314001"},
		},
		{
			"adt-a08-escapes.hl7", "UTF-8", StandardDelimiters(),
			map[string]string{
				"PID-11.1": "200 SAMPLE AVE & 2ND ST",
				"OBX-5":    "Line one\nLine two | pipe ^ caret ~ tilde & amp \\ backslash A bold \\Zlocal\\ end",
			},
		},
		{
			"adt-a01-v27-truncation.hl7", "UTF-8",
			Delimiters{Field: '|', Component: '^', Repetition: '~', Escape: '\\', Subcomponent: '&', Truncation: '#'},
			map[string]string{"MSH-2": `^~\&#`, "MSH-12": "2.7", "PID-3.1": "CB000123"},
		},
		{"adt-a01-v23.hl7", "UTF-8", StandardDelimiters(), map[string]string{"MSH-9.3": "", "MSH-12": "2.3"}},
		{"adt-a01-enhanced.hl7", "UTF-8", StandardDelimiters(), map[string]string{"MSH-15": "AL", "MSH-16": "AL"}},
		{"adt-a01-no-visit-number.hl7", "UTF-8", StandardDelimiters(), map[string]string{"PV1-19.1": "", "PV1-2": "I"}},
		{"oru-r01-unsupported.hl7", "UTF-8", StandardDelimiters(), map[string]string{"MSH-9.1": "ORU", "MSH-9.2": "R01", "OBX-5": "13.5"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			m := mustParse(t, readSample(t, tt.file))
			if m.Charset() != tt.charset {
				t.Errorf("Charset() = %q, want %q", m.Charset(), tt.charset)
			}
			if diff := cmp.Diff(tt.delims, m.Delimiters()); diff != "" {
				t.Errorf("Delimiters mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.values, values(m, tt.values)); diff != "" {
				t.Errorf("values mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// dump renders every segment's escaped fields, to compare two parses.
func dump(m *Message) []string {
	var out []string
	for _, s := range m.Segments() {
		var fields []string
		for n := 1; n <= s.Fields(); n++ {
			fields = append(fields, s.Field(n).Raw())
		}
		out = append(out, s.Name()+"="+strings.Join(fields, "¦"))
	}
	return out
}

func TestParseSegmentSeparators(t *testing.T) {
	segs := []string{stdMSH, "PID|1||ID1^^^AUTH^MR||FAM^GIV", "PV1|1|I", "ZZ1"}
	want := []string{
		`MSH=|¦^~\&¦SND¦SFAC¦RCV¦RFAC¦20250314083000¦¦ADT^A01^ADT_A01¦C1¦P¦2.5.1`,
		"PID=1¦¦ID1^^^AUTH^MR¦¦FAM^GIV",
		"PV1=1¦I",
		"ZZ1=",
	}
	bom := "\xEF\xBB\xBF"
	tests := []struct {
		name string
		raw  string
	}{
		{"CR", strings.Join(segs, "\r") + "\r"},
		{"CR without a final one", strings.Join(segs, "\r")},
		{"LF", strings.Join(segs, "\n") + "\n"},
		{"CRLF", strings.Join(segs, "\r\n") + "\r\n"},
		{"mixed", segs[0] + "\r" + segs[1] + "\n" + segs[2] + "\r\n" + segs[3]},
		{"trailing blank lines", strings.Join(segs, "\r") + "\r\r\n\n  \r\t\r\n"},
		{"blank lines between", strings.Join(segs, "\r\n\r\n")},
		{"leading blank lines", "\r\n\n" + strings.Join(segs, "\r")},
		{"BOM", bom + strings.Join(segs, "\r")},
		{"BOM then LF and blank lines", bom + "\n" + strings.Join(segs, "\n") + "\n\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustParse(t, []byte(tt.raw))
			if diff := cmp.Diff(want, dump(m)); diff != "" {
				t.Errorf("segments mismatch (-want +got):\n%s", diff)
			}
			for i, s := range m.Segments() {
				if s.Index() != i {
					t.Errorf("segment %d: Index() = %d", i, s.Index())
				}
			}
		})
	}
}

// TestParseLineFeedInValue checks that a line feed ends a segment only when
// a segment (or a blank line) follows it, and is kept as text otherwise.
func TestParseLineFeedInValue(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want []string
	}{
		{
			name: "CR separators, LF inside a value",
			raw:  stdMSH + "\rNTE|1||first line\nsecond line\rZZ1|x\r",
			want: []string{"NTE=1¦¦first line\nsecond line", "ZZ1=x"},
		},
		{
			name: "LF separators, LF inside a value",
			raw:  stdMSH + "\nNTE|1||first line\nsecond line\nZZ1|x\n",
			want: []string{"NTE=1¦¦first line\nsecond line", "ZZ1=x"},
		},
		{
			name: "LF before a segment name",
			raw:  stdMSH + "\rNTE|1||first line\nZZ1|x\nZZ2\nZZ3\r",
			want: []string{"NTE=1¦¦first line", "ZZ1=x", "ZZ2=", "ZZ3="},
		},
		{
			name: "LF before a blank line",
			raw:  stdMSH + "\nNTE|1||a\n \t\nZZ1|x",
			want: []string{"NTE=1¦¦a", "ZZ1=x"},
		},
		{
			name: "LF before text that only starts like a name",
			raw:  stdMSH + "\rNTE|1||a\nABC def\nAB|c\r",
			want: []string{"NTE=1¦¦a\nABC def\nAB¦c"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustParse(t, []byte(tt.raw))
			if diff := cmp.Diff(tt.want, dump(m)[1:]); diff != "" {
				t.Errorf("segments mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseDelimiters(t *testing.T) {
	std := StandardDelimiters()
	tests := []struct {
		name   string
		raw    []byte
		want   Delimiters
		values map[string]string
	}{
		{
			name: "standard",
			raw:  join(stdMSH, `PID|1||A^B&C~D`),
			want: std,
			values: map[string]string{
				"MSH-1": "|", "MSH-2": `^~\&`, "MSH-9.2": "A01", "PID-3": "A", "PID-3.2": "B", "PID-3.2.2": "C",
			},
		},
		{
			name: "custom characters",
			raw:  join(`MSH#!@*%#SND#SFAC#RCV#RFAC#20250314##ADT!A01#C1#P#2.5.1`, `PID#1##A!B%C@D#x*F*y*S*z*T*w*R*v*E*u`),
			want: Delimiters{Field: '#', Component: '!', Repetition: '@', Escape: '*', Subcomponent: '%'},
			values: map[string]string{
				"MSH-1": "#", "MSH-2": "!@*%", "MSH-9.1": "ADT", "MSH-9.2": "A01", "MSH-10": "C1",
				"PID-3.1": "A", "PID-3.2.1": "B", "PID-3.2.2": "C", "PID-4": "x#y!z%w@v*u",
			},
		},
		{
			name:   "standard characters used as plain text by custom delimiters",
			raw:    join(`MSH#!@*%#SND#SFAC#RCV#RFAC#20250314##ADT!A01#C1`, `NTE#1##a|b^c~d\e&f`),
			want:   Delimiters{Field: '#', Component: '!', Repetition: '@', Escape: '*', Subcomponent: '%'},
			values: map[string]string{"NTE-3": `a|b^c~d\e&f`},
		},
		{
			name:   "five characters with a truncation character",
			raw:    join(`MSH|^~\&#|SND|SFAC|RCV|RFAC|20250314||ADT^A01|C1|P|2.7`, `NTE|1||cut#|a\P\b`),
			want:   Delimiters{Field: '|', Component: '^', Repetition: '~', Escape: '\\', Subcomponent: '&', Truncation: '#'},
			values: map[string]string{"MSH-2": `^~\&#`, "MSH-9.2": "A01", "NTE-3": "cut#", "NTE-4": "a#b"},
		},
		{
			name:   "four characters: no truncation character, \\P\\ stays",
			raw:    join(stdMSH, `NTE|1||cut#|a\P\b`),
			want:   std,
			values: map[string]string{"NTE-3": "cut#", "NTE-4": `a\P\b`},
		},
		{
			name:   "MSH ends right after the control ID",
			raw:    []byte(`MSH|^~\&|||||||ACK|C9`),
			want:   std,
			values: map[string]string{"MSH-9": "ACK", "MSH-10": "C9", "MSH-11": "", "MSH-12": ""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustParse(t, tt.raw)
			if diff := cmp.Diff(tt.want, m.Delimiters()); diff != "" {
				t.Errorf("Delimiters mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.values, values(m, tt.values)); diff != "" {
				t.Errorf("values mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseCopiesInput(t *testing.T) {
	raw := join(stdMSH, "PID|1||ID1^^^AUTH^MR||FAM^GIV")
	m := mustParse(t, raw)
	before := dump(m)
	for i := range raw {
		raw[i] = 'x'
	}
	if diff := cmp.Diff(before, dump(m)); diff != "" {
		t.Errorf("message changed with its input (-before +after):\n%s", diff)
	}
}
