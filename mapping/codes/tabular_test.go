package codes

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TabularFixture is the hand-made Tabular List fixture in the official
// schema (testdata/codesets/icd10cm_tabular_fixture.xml).
const tabularFixture = "icd10cm_tabular_fixture.xml"

// tabularCatalog loads the fixture as the FY2027 Tabular List.
func tabularCatalog(t *testing.T) *Catalog {
	t.Helper()
	rel, err := NewRelease(ICD10CMTabular, "2027")
	if err != nil {
		t.Fatal(err)
	}
	c := NewCatalog()
	if _, err := c.Load(rel, openTestdata(t, tabularFixture)); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestTabularFixtureValidates checks the fixture against the CDC schema
// (a copy of icd10cm_tabular.xsd in testdata) with xmllint, the libxml2
// validator; no XSD validator exists in pure Go, so the test is skipped
// where xmllint is not installed (Debian: libxml2-utils).
func TestTabularFixtureValidates(t *testing.T) {
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Skip("xmllint not installed (apt-get install libxml2-utils)")
	}
	out, err := exec.Command(xmllint, "--noout", "--schema", filepath.Join(testdata, "icd10cm_tabular.xsd"),
		filepath.Join(testdata, tabularFixture)).CombinedOutput()
	if err != nil {
		t.Fatalf("the fixture does not validate against icd10cm_tabular.xsd: %v\n%s", err, out)
	}
}

func TestReadTabularFixture(t *testing.T) {
	var got []string
	kinds := map[NoteKind]int{}
	err := ReadTabular(openTestdata(t, tabularFixture), func(n TabularNode) error {
		got = append(got, n.Ref().String())
		for _, note := range n.Notes {
			kinds[note.Kind]++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Children end before their parent.
	want := []string{"B96.20", "B96.2", "B96", "section B95-B97", "chapter 1",
		"E09.9", "E09", "E10.9", "E10", "E11.42", "E11.4", "E11.9", "E11", "section E08-E13", "chapter 4",
		"G63", "section G60-G65", "chapter 6", "N39.0", "N39", "section N30-N39", "chapter 14",
		"R40.211", "R40.21", "R40.241", "R40.24", "R40.2", "R40", "section R40-R46", "chapter 18",
		"S13.4", "S13", "section S10-S19", "S52.521", "S52.52", "S52.5", "S52.90", "S52.9", "S52", "section S50-S59",
		"T39.011", "T39.015", "T39.01", "T39.0", "T39", "section T36-T50", "chapter 19"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("nodes mismatch (-want +got):\n%s", diff)
	}
	wantKinds := map[NoteKind]int{NoteNotes: 5, NoteExcludes1: 15, NoteExcludes2: 5, NoteInclusionTerm: 3, NoteIncludes: 4,
		NoteUseAdditionalCode: 6, NoteCodeFirst: 11, NoteCodeAlso: 1, NoteSevenChrNote: 3, NoteSevenChrDef: 22}
	if diff := cmp.Diff(wantKinds, kinds); diff != "" {
		t.Errorf("note kinds mismatch (-want +got):\n%s", diff)
	}
}

// TestTabularInheritance checks that a code's instructions are its own
// notes and those of every node above it, chapter first, exactly as the
// XML nests them, and that the nearest sevenChrDef applies.
func TestTabularInheritance(t *testing.T) {
	c := tabularCatalog(t)
	type note struct{ Kind, At, Text, Refs string }
	summary := func(in TabularInstructions) []note {
		var out []note
		for _, n := range in.Notes {
			if n.Kind == NoteExcludes1 || n.Kind == NoteCodeFirst || n.Kind == NoteSevenChrNote {
				var refs []string
				for _, r := range n.Refs {
					refs = append(refs, r.String())
				}
				out = append(out, note{string(n.Kind), n.At.String(), n.Text, strings.Join(refs, " ")})
			}
		}
		return out
	}
	ch4 := note{"excludes1", "chapter 4", "transitory endocrine and metabolic disorders specific to newborn (P70-P74)", "P70-P74"}
	e11 := []note{ch4,
		{"excludes1", "E11", "diabetes mellitus due to underlying condition (E08.-)", "E08"},
		{"excludes1", "E11", "neonatal diabetes mellitus (P70.2)", "P70.2"},
		{"excludes1", "E11", "type 1 diabetes mellitus (E10.-)", "E10"}}
	tests := []struct {
		code     string
		node     string
		leaf     bool
		notes    []note
		sevenAt  string
		sevenChr string
	}{
		{"E11.42", "E11.42", true, e11, "", ""},
		{"E11.9", "E11.9", true, e11, "", ""},
		{"E11", "E11", false, e11, "", ""},
		{"E11.65", "E11", false, e11, "", ""}, // not in the fixture: its category's notes
		{"G63", "G63", true, []note{
			{"excludes1", "section G60-G65", "neuralgia NOS (M79.2)", "M79.2"},
			{"excludes1", "section G60-G65", "radiculitis NOS (M54.1-)", "M54.1"},
			{"codeFirst", "G63", "underlying disease, such as:", ""},
			{"codeFirst", "G63", "amyloidosis (E85.-)", "E85"},
			{"codeFirst", "G63", "endocrine disease, except diabetes (E00-E07, E15-E16, E20-E34)", "E00-E07 E15-E16 E20-E34"},
			{"codeFirst", "G63", "metabolic diseases (E70-E88)", "E70-E88"},
			{"codeFirst", "G63", "neoplasm (C00-D49)", "C00-D49"},
			{"excludes1", "G63", "polyneuropathy (in):", ""},
			{"excludes1", "G63", "diabetes mellitus (E08-E13 with .42)", "E08-E13 with .42"},
			{"excludes1", "G63", "syphilis (A52.15)", "A52.15"}}, "", ""},
		{"S52.521A", "S52.521", true, []note{
			{"excludes1", "chapter 19", "birth trauma (P10-P15)", "P10-P15"},
			{"excludes1", "chapter 19", "obstetric trauma (O70-O71)", "O70-O71"},
			{"excludes1", "S52", "traumatic amputation of forearm (S58.-)", "S58"},
			{"sevenChrNote", "S52", "The appropriate 7th character is to be added to all codes from category S52", ""}},
			"S52", "A, B, C, D, G, K, P, S"},
		{"S52.90XA", "S52.90", true, nil, "S52", "A, B, C, D, G, K, P, S"},
		{"S13.4XXA", "S13.4", true, nil, "S13", "A, D, S"},
		{"R40.2112", "R40.211", true, nil, "R40.2", "0, 1, 2, 3, 4"},
		{"R40.2413", "R40.241", true, nil, "R40.24", "0, 3"}, // the deeper definition replaces R40.2's
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			in, err := c.Tabular(context.Background(), tt.code, ymd(2026, 10, 1))
			if err != nil {
				t.Fatal(err)
			}
			if in.Node.String() != tt.node || in.Leaf != tt.leaf || in.Release.Version != "FY2027" {
				t.Errorf("node %s leaf %t release %s, want %s leaf %t FY2027", in.Node, in.Leaf, in.Release.Version, tt.node, tt.leaf)
			}
			if tt.notes != nil {
				if diff := cmp.Diff(tt.notes, summary(in)); diff != "" {
					t.Errorf("notes mismatch (-want +got):\n%s", diff)
				}
			}
			gotAt, gotChr := "", ""
			if in.SevenChr != nil {
				gotAt, gotChr = in.SevenChr.At.String(), in.SevenChr.CharList()
			}
			if gotAt != tt.sevenAt || gotChr != tt.sevenChr {
				t.Errorf("sevenChrDef at %q %q, want at %q %q", gotAt, gotChr, tt.sevenAt, tt.sevenChr)
			}
		})
	}
	if _, err := c.Tabular(context.Background(), "E11.9", ymd(2026, 9, 30)); !errors.Is(err, ErrNoRelease) {
		t.Errorf("FY2026 date: err = %v, want ErrNoRelease", err)
	}
	if _, err := c.Tabular(context.Background(), "J20.9", ymd(2026, 10, 1)); !errors.Is(err, ErrNotFound) {
		t.Errorf("code outside the fixture: err = %v, want ErrNotFound", err)
	}
}

func TestParseCodeRefs(t *testing.T) {
	tests := []struct {
		text string
		want []string
	}{
		{"type 2 diabetes mellitus (E11.-)", []string{"E11"}},
		{"dementia (F01-F03)", []string{"F01-F03"}},
		{"diabetic polyneuropathy (E08.42, E09.42, E10.42)", []string{"E08.42", "E09.42", "E10.42"}},
		{"endocrine disease, except diabetes (E00-E07, E15-E16, E20-E34)", []string{"E00-E07", "E15-E16", "E20-E34"}},
		{"diabetes mellitus (E08-E13 with .42)", []string{"E08-E13 with .42"}},
		{"chronic kidney disease (N18.1-N18.4, N18.9)", []string{"N18.1-N18.4", "N18.9"}},
		{"poisoning (T36.0X1-)", []string{"T36.0X1"}},
		{"pregnancy (O00–O9A)", []string{"O00-O9A"}}, // en dash
		{"vitamin B12 deficiency anemia (D51.-)", []string{"D51"}},
		{"code to identify control using:", nil},
		{"congenital (acute) (chronic) forms", nil},
		{"hemoglobin (A1Cx) levels", nil},
		{"poisoning due to drug or toxin, if applicable (T36-T65 with fifth or sixth character 1-4 or 6)",
			[]string{"T36-T65 with fifth or sixth character 1, 2, 3, 4, 6"}},
		{"code for adverse effect, if applicable, to identify drug (T36-T50 with fifth or sixth character 5)",
			[]string{"T36-T50 with fifth or sixth character 5"}},
		{"drug (T36-T50 with fifth or sixth character 1, 2 or 4)", []string{"T36-T50 with fifth or sixth character 1, 2, 4"}},
	}
	for _, tt := range tests {
		var got []string
		for _, r := range ParseCodeRefs(tt.text) {
			got = append(got, r.String())
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%q mismatch (-want +got):\n%s", tt.text, diff)
		}
	}
}

func TestCodeRangeContains(t *testing.T) {
	tests := []struct {
		ref  string
		code string
		want bool
	}{
		{"(E11.-)", "E11.9", true},
		{"(E11.-)", "E1165", true},
		{"(E11.-)", "E10.9", false},
		{"(F01-F03)", "F02.80", true},
		{"(F01-F03)", "F03.90", true},
		{"(F01-F03)", "F04", false},
		{"(F01-F03)", "F00", false},
		{"(N18.1-N18.4)", "N18.30", true},
		{"(N18.1-N18.4)", "N18.5", false},
		{"(N18.1-N18.4)", "N18", false}, // the category is not one of the codes named
		{"(E08.42)", "E08.42", true},
		{"(E08.42)", "E08.4", false},
		{"(E08-E13 with .42)", "E11.42", true},
		{"(E08-E13 with .42)", "E11.9", false},
		{"(E08-E13 with .42)", "E14.42", false},
		{"(O00-O9A)", "O9A.11", true},
		// The drug and toxin qualifier reads the intent character: the
		// sixth, or the fifth when the placeholder X fills the sixth.
		{"(T36-T65 with fifth or sixth character 1-4 or 6)", "T39.011A", true},
		{"(T36-T65 with fifth or sixth character 1-4 or 6)", "T39.015A", false},
		{"(T36-T65 with fifth or sixth character 1-4 or 6)", "T39.016A", true},
		{"(T36-T65 with fifth or sixth character 1-4 or 6)", "T38.3X4A", true},
		{"(T36-T65 with fifth or sixth character 1-4 or 6)", "T51.0X1A", true},
		{"(T36-T65 with fifth or sixth character 1-4 or 6)", "T51.91XA", true},
		{"(T36-T65 with fifth or sixth character 1-4 or 6)", "T51.95XA", false},
		{"(T36-T65 with fifth or sixth character 1-4 or 6)", "T39.01", false}, // no intent character
		{"(T36-T65 with fifth or sixth character 1-4 or 6)", "T66.XXXA", false},
		{"(T36-T50 with fifth or sixth character 5)", "T39.015A", true},
		{"(T36-T50 with fifth or sixth character 5)", "T39.011A", false},
		{"(T36-T50 with fifth or sixth character 5)", "T51.0X5A", false},
	}
	for _, tt := range tests {
		refs := ParseCodeRefs(tt.ref)
		if len(refs) != 1 {
			t.Fatalf("%s: %d refs", tt.ref, len(refs))
		}
		if got := refs[0].Contains(tt.code); got != tt.want {
			t.Errorf("%s contains %s = %t, want %t", tt.ref, tt.code, got, tt.want)
		}
	}
}

// TestReadTabularErrors checks that a file that is not a complete
// Tabular List is refused with a reason and a line, and that a Catalog
// keeps nothing of it.
func TestReadTabularErrors(t *testing.T) {
	const head = `<?xml version="1.0"?><ICD10CM.tabular><chapter><name>4</name><section id="E08-E13">`
	const tail = `</section></chapter></ICD10CM.tabular>`
	tests := []struct {
		name, xml, want string
	}{
		{"empty", "", "no XML element"},
		{"not XML", "E11.9 Type 2 diabetes mellitus\n", "no XML element"},
		{"other root", `<ICD10CM.index><letter/></ICD10CM.index>`, "not the ICD-10-CM Tabular List"},
		{"addenda", `<ICD10CM.tabular isAddenda="true"><chapter><name>1</name></chapter></ICD10CM.tabular>`, "addenda"},
		{"no chapter", `<ICD10CM.tabular><version>2027</version></ICD10CM.tabular>`, "no <chapter>"},
		{"diag without name", head + `<diag><desc>Type 2 diabetes mellitus</desc></diag>` + tail, "without <name>"},
		{"section without id", `<ICD10CM.tabular><chapter><name>4</name><section><desc>Diabetes</desc></section></chapter></ICD10CM.tabular>`, "without id"},
		{"same code twice", head + `<diag><name>E11</name></diag><diag><name>E11</name></diag>` + tail, "named by two"},
		{"unknown element", head + `<diag><name>E11</name><excludes3><note>x</note></excludes3></diag>` + tail, "unexpected <excludes3> in <diag>"},
		{"diag in a chapter", `<ICD10CM.tabular><chapter><name>4</name><diag><name>E11</name></diag></chapter></ICD10CM.tabular>`, "unexpected <diag> in <chapter>"},
		{"bad 7th character", head + `<diag><name>S52</name><sevenChrDef><extension char="AB">x</extension></sevenChrDef></diag>` + tail, "7th character"},
		{"truncated", head + `<diag><name>E11</name><excludes1><note>type 1`, "line 1"},
		{"malformed", head + `<diag><name>E11</nam></diag>` + tail, "line 1"},
		{"diag not extending its parent", "<ICD10CM.tabular>\n<chapter><name>19</name><section id=\"S50-S59\">\n<diag><name>S52</name>\n" +
			"<diag><name>T52.9</name>\n</diag></diag></section></chapter></ICD10CM.tabular>",
			"line 5: code T52.9 is inside <diag> S52 but does not extend it"},
	}
	rel, _ := NewRelease(ICD10CMTabular, "FY2027")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ReadTabular(strings.NewReader(tt.xml), func(TabularNode) error { return nil })
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
			c := NewCatalog()
			if _, err := c.Load(rel, strings.NewReader(tt.xml)); err == nil {
				t.Fatal("Catalog.Load: nil error")
			}
			if len(c.Releases()) != 0 {
				t.Errorf("a failed load left %v", c.Releases())
			}
		})
	}
	// <version> must be the release's fiscal year (Catalog.Load reads with
	// ReadTabularFor); ReadTabular does not check it.
	other := "<ICD10CM.tabular>\n<version>2026</version>\n<chapter><name>4</name><section id=\"E08-E13\"><diag><name>E11</name>" +
		"<diag><name>E11.9</name></diag></diag></section></chapter></ICD10CM.tabular>"
	c := NewCatalog()
	if _, err := c.Load(rel, strings.NewReader(other)); err == nil ||
		!strings.Contains(err.Error(), `line 2: <version> "2026": this is the FY2026 Tabular List, not FY2027's`) {
		t.Errorf("FY2026 file loaded as FY2027: err = %v", err)
	}
	if len(c.Releases()) != 0 {
		t.Errorf("a refused version left %v", c.Releases())
	}
	if err := ReadTabularFor(strings.NewReader(strings.Replace(other, "2026", "FY", 1)), rel, func(TabularNode) error { return nil }); err == nil ||
		!strings.Contains(err.Error(), "names no fiscal year") {
		t.Errorf("version without a year: err = %v", err)
	}
	calls := 0
	if err := ReadTabularFor(strings.NewReader(other), rel, func(TabularNode) error { calls++; return nil }); err == nil || calls != 0 {
		t.Errorf("ReadTabularFor FY2026 file for FY2027: err %v after %d nodes, want an error before any", err, calls)
	}
	if err := ReadTabular(strings.NewReader(other), func(TabularNode) error { return nil }); err != nil {
		t.Errorf("ReadTabular checks no version: %v", err)
	}
	fy26, _ := NewRelease(ICD10CMTabular, "FY2026")
	if _, err := NewCatalog().Load(fy26, strings.NewReader(other)); err != nil {
		t.Errorf("FY2026 file loaded as FY2026: %v", err)
	}
	// A file of codes of another shape (the PCS tables laid out as diags).
	pcs := head + `<diag><name>0DT</name><diag><name>0DTJ4ZZ</name></diag></diag>` + tail
	if _, err := NewCatalog().Load(rel, strings.NewReader(pcs)); !errors.Is(err, ErrWrongShape) {
		t.Errorf("ICD-10-PCS codes: err = %v, want ErrWrongShape", err)
	}
	// The caller's error is returned as is.
	stop := errors.New("stop")
	if err := ReadTabular(openTestdata(t, tabularFixture), func(TabularNode) error { return stop }); err != stop {
		t.Errorf("fn error: got %v, want it unwrapped", err)
	}
}
