package hl7v2

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseCharsets(t *testing.T) {
	tests := []struct {
		name    string
		msh18   string
		pid5    string // raw bytes of PID-5
		charset string // Message.Charset
		want    string // PID-5.1 read back
	}{
		{"none, UTF-8 bytes", "", "Zo\xC3\xAB", "UTF-8", "Zoë"},
		{"none, Latin-1 bytes fall back to Windows-1252", "", "Zo\xEB", "WINDOWS-1252", "Zoë"},
		{"none, Windows-1252 quote", "", "O\x92Neil", "WINDOWS-1252", "O’Neil"},
		{"ASCII, plain", "ASCII", "Zoe", "UTF-8", "Zoe"},
		{"ASCII, UTF-8 bytes kept", "ASCII", "Zo\xC3\xAB", "UTF-8", "Zoë"},
		{"ASCII, Latin-1 bytes fall back", "ASCII", "Zo\xEB", "WINDOWS-1252", "Zoë"},
		{"UNICODE UTF-8", "UNICODE UTF-8", "Zo\xC3\xAB \xF0\x9F\x98\x80", "UTF-8", "Zoë 😀"},
		{"UTF-8 spelling", "UTF-8", "Zo\xC3\xAB", "UTF-8", "Zoë"},
		{"8859/1", "8859/1", "Zo\xEB M\xFCller", "ISO-8859-1", "Zoë Müller"},
		{"8859/1 lower case and padded", " 8859/1 ", "Zo\xEB", "ISO-8859-1", "Zoë"},
		{"8859/1 with an alternate character set repetition", "8859/1~ISO IR87", "Zo\xEB", "ISO-8859-1", "Zoë"},
		{"8859/1 with a component", "8859/1^x", "Zo\xEB", "ISO-8859-1", "Zoë"},
		{"8859/1 bytes that would be UTF-8", "8859/1", "\xC3\xAB", "ISO-8859-1", "Ã«"},
		{"8859/15 euro", "8859/15", "\xA4", "ISO-8859-15", "€"},
		{"8859/2", "8859/2", "\xB9", "ISO-8859-2", "š"},
		{"CP1252", "CP1252", "\x80 O\x92Neil", "WINDOWS-1252", "€ O’Neil"},
		{"WINDOWS-1252", "WINDOWS-1252", "\x80", "WINDOWS-1252", "€"},
		{"byte undefined in Windows-1252", "CP1252", "a\x81b", "WINDOWS-1252", "a\uFFFDb"},
		{"windows-1252 lower case", "windows-1252", "\x80", "WINDOWS-1252", "€"},
		{"hex escape in 8859/1", "8859/1", `Zo\XEB\`, "ISO-8859-1", "Zoë"},
		{"hex escape in UTF-8", "UNICODE UTF-8", `Zo\XC3AB\`, "UTF-8", "Zoë"},
		{"hex escape in Windows-1252", "CP1252", `\X80\`, "WINDOWS-1252", "€"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := join(stdMSH+"||||||"+tt.msh18, "PID|1||ID1||"+tt.pid5+"^GIVEN")
			m := mustParse(t, raw)
			got := []string{m.Charset(), m.First("PID").Value(5, 1), m.First("PID").Value(5, 2)}
			want := []string{tt.charset, tt.want, "GIVEN"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// MSH-18 spellings of ISO-8859-1 seen from senders decode as 8859/1.
func TestCharsetLatin1Aliases(t *testing.T) {
	for _, name := range []string{"ISO-8859-1", "latin1", "ISO IR100"} {
		raw := append([]byte("MSH|^~\\&|A|F|R|RF|20250101||ADT^A08|1|P|2.5.1|||||"+name+"\rPID|1||X||M\xfcller\r"), []byte{}...)
		m, err := Parse(raw)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := m.First("PID").Value(5, 1); got != "Müller" {
			t.Errorf("%s: PID-5 = %q, want Müller", name, got)
		}
	}
}
