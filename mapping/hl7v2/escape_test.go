package hl7v2

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

var (
	customDelims    = Delimiters{Field: '#', Component: '!', Repetition: '@', Escape: '*', Subcomponent: '%'}
	truncatedDelims = Delimiters{Field: '|', Component: '^', Repetition: '~', Escape: '\\', Subcomponent: '&', Truncation: '#'}
)

func TestUnescape(t *testing.T) {
	std := StandardDelimiters()
	latin1, _ := lookupCharset("8859/1")
	tests := []struct {
		name string
		in   string
		d    Delimiters
		cs   *codec
		want string
	}{
		{"plain", "no escapes", std, utf8Lenient, "no escapes"},
		{"delimiters", `a\F\b\S\c\T\d\R\e\E\f`, std, utf8Lenient, `a|b^c&d~e\f`},
		{"adjacent sequences", `\F\\S\\E\`, std, utf8Lenient, `|^\`},
		{"line break", `one\.br\two`, std, utf8Lenient, "one\ntwo"},
		{"highlight on and off dropped", `\H\bold\N\ text`, std, utf8Lenient, "bold text"},
		{"hex ASCII", `\X41\\X4243\`, std, utf8Lenient, "ABC"},
		{"hex CR LF", `a\X0D0A\b`, std, utf8Lenient, "a\r\nb"},
		{"hex lower case", `\X6a\`, std, utf8Lenient, "j"},
		{"hex UTF-8", `\XC3A9\`, std, utf8Lenient, "é"},
		{"hex Latin-1", `\XE9\`, std, latin1, "é"},
		{"hex not UTF-8 stays", `\XE9\`, std, utf8Lenient, `\XE9\`},
		{"hex odd digits stay", `\X414\`, std, utf8Lenient, `\X414\`},
		{"hex not hex stays", `\XZZ\`, std, utf8Lenient, `\XZZ\`},
		{"hex empty stays", `\X\`, std, utf8Lenient, `\X\`},
		{"hex NUL stays", `\X00\`, std, utf8Lenient, `\X00\`},
		{"unknown sequence stays", `\Zlocal\ and \.sp\`, std, utf8Lenient, `\Zlocal\ and \.sp\`},
		{"character set escape stays", `\C2842\`, std, utf8Lenient, `\C2842\`},
		{"empty sequence stays", `a\\b`, std, utf8Lenient, `a\\b`},
		{"unterminated stays", `C:\temp`, std, utf8Lenient, `C:\temp`},
		{"Windows path", `C:\temp\file`, std, utf8Lenient, `C:\temp\file`},
		{"unterminated after a good one", `\F\x\y`, std, utf8Lenient, `|x\y`},
		{"truncation without the character stays", `\P\`, std, utf8Lenient, `\P\`},
		{"truncation", `\P\`, truncatedDelims, utf8Lenient, "#"},
		{"custom delimiters", `x*F*y*S*z*T*w*R*v*E*u*.br*t`, customDelims, utf8Lenient, "x#y!z%w@v*u\nt"},
		{"backslash is plain with a custom escape", `a\F\b`, customDelims, utf8Lenient, `a\F\b`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := unescape(tt.in, tt.d, tt.cs); got != tt.want {
				t.Errorf("unescape(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestEscape(t *testing.T) {
	tests := []struct {
		name string
		in   string
		d    Delimiters
		want string
	}{
		{"plain", "plain text é", StandardDelimiters(), "plain text é"},
		{"every delimiter", `a|b^c~d\e&f#g`, StandardDelimiters(), `a\F\b\S\c\R\d\E\e\T\f#g`},
		{"line ends", "a\nb\rc", StandardDelimiters(), `a\.br\b\X0D\c`},
		{"zero Delimiters are the standard ones", "a|b", Delimiters{}, `a\F\b`},
		{"truncation character", "a#b", truncatedDelims, `a\P\b`},
		{"custom delimiters", `a#b!c@d*e%f|g`, customDelims, `a*F*b*S*c*R*d*E*e*T*f|g`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Escape(tt.in, tt.d); got != tt.want {
				t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// randomText returns a string of up to 40 pieces drawn from delimiters,
// escape-like sequences, line ends and non-ASCII text.
func randomText(r *rand.Rand) string {
	pieces := []string{
		"|", "^", "~", `\`, "&", "#", "!", "@", "*", "%", "\r", "\n", "\r\n", `"`, `""`, " ", "\t",
		`\F\`, `\X41\`, `\.br\`, `\Z\`, "*F*", "a", "Z", "0", "é", "€", "😀", "MSH", "PID|", "\x01",
	}
	var b strings.Builder
	for n := r.IntN(41); n > 0; n-- {
		b.WriteString(pieces[r.IntN(len(pieces))])
	}
	return b.String()
}

// TestEscapeRoundTrip is a property: for random text full of delimiters,
// Escape then Parse reads back exactly the text, as one value.
func TestEscapeRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 2025))
	for _, d := range []Delimiters{StandardDelimiters(), customDelims, truncatedDelims} {
		fs := string(d.Field)
		msh := "MSH" + fs + d.Encoding() + fs + "A" + fs + "B" + fs + "C" + fs + "D" + fs + "20250314" + fs + fs + "ADT" + fs + "C1"
		for i := 0; i < 3000; i++ {
			text := randomText(r)
			m, err := Parse(join(msh, "NTE"+fs+"1"+fs+fs+Escape(text, d)+fs+"end"))
			if err != nil {
				t.Fatalf("delimiters %q: Parse(Escape(%q)): %v", d.Encoding(), text, err)
			}
			nte := m.First("NTE")
			f := nte.Field(3)
			got := []any{f.String(), nte.Get("3.1.1"), len(f.Reps()) <= 1, f.Rep(0).Comps() <= 1, nte.Get("4")}
			want := []any{text, text, true, true, "end"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("delimiters %q, text %q: mismatch (-want +got):\n%s", d.Encoding(), text, diff)
			}
			if !utf8.ValidString(Escape(text, d)) {
				t.Fatalf("Escape(%q) is not valid UTF-8", text)
			}
		}
	}
}
