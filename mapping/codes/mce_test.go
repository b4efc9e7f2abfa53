package codes

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const mceTextFixture = "mce_definitions_v43_1_text_layout_extract.txt"

// TestMCEWindow pins the MCE version labels: vNN is FY(NN-17), vNN.1 its
// April update (v43.1: discharges 2026-04-01..2026-09-30, v44: FY2027).
func TestMCEWindow(t *testing.T) {
	for _, tt := range []struct {
		version, label, from, to string
	}{
		{"43", "v43", "2025-10-01", "2026-09-30"},
		{"v43.0", "v43", "2025-10-01", "2026-09-30"},
		{"43.1", "v43.1", "2026-04-01", "2026-09-30"},
		{" V43.1 ", "v43.1", "2026-04-01", "2026-09-30"},
		{"v44", "v44", "2026-10-01", "2027-09-30"},
		{"44.1", "v44.1", "2027-04-01", "2027-09-30"},
		{"33", "v33", "2015-10-01", "2016-09-30"},
		{"43.2", "", "", ""},
		{"FY2026", "", "", ""},
		{"2026Q2", "", "", ""},
		{"12", "", "", ""},
		{"", "", "", ""},
	} {
		from, to, err := Window(MCE, tt.version)
		rel, rerr := NewRelease(MCE, tt.version)
		if tt.label == "" {
			if err == nil || rerr == nil {
				t.Errorf("Window(mce, %q) = %s..%s, want an error", tt.version, from, to)
			}
			continue
		}
		if err != nil || rerr != nil {
			t.Errorf("Window(mce, %q): %v, %v", tt.version, err, rerr)
			continue
		}
		got := [3]string{rel.Version, from.Format(time.DateOnly), to.Format(time.DateOnly)}
		if want := [3]string{tt.label, tt.from, tt.to}; got != want || !rel.From.Equal(from) || !rel.To.Equal(to) {
			t.Errorf("mce %q = %v, want %v", tt.version, got, want)
		}
	}
	if _, err := ParseSystem(" MCE "); err != nil {
		t.Errorf("ParseSystem(mce): %v", err)
	}
}

func readMCEAll(t *testing.T, data []byte, version string) ([]MCERecord, error) {
	t.Helper()
	var out []MCERecord
	err := ReadMCE(strings.NewReader(string(data)), version, func(m MCERecord) error { out = append(out, m); return nil })
	return out, err
}

// byList groups records as "list min-max: codes".
func byList(recs []MCERecord) map[MCEList][]string {
	out := map[MCEList][]string{}
	for _, r := range recs {
		out[r.List] = append(out[r.List], r.Code)
	}
	return out
}

// TestReadMCEText reads the hand-made extract in the layout of the CMS
// text file: table of contents skipped, age ranges from the headings,
// the section 8 procedure list and the later chapter not read, Z51.89
// (acceptable only with a secondary diagnosis) on its own list.
func TestReadMCEText(t *testing.T) {
	data, err := readMCEFile(openTestdata(t, mceTextFixture))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := readMCEAll(t, data, "43.1")
	if err != nil {
		t.Fatal(err)
	}
	want := map[MCEList][]string{
		MCEPerinatal:             {"A33", "Z3800"},
		MCEPediatric:             {"A4851", "F843"},
		MCEMaternity:             {"O0900", "O80", "Z3400"},
		MCEAdult:                 {"F0150", "R54"},
		MCEManifestation:         {"D630", "D631", "G01"},
		MCEQuestionableAdmission: {"E119", "I10", "R030"},
		MCEUnacceptableAlone:     {"Z5189"},
		MCEUnacceptablePrincipal: {"B950", "Z0000", "Z370", "Z3A00"},
	}
	if diff := cmp.Diff(want, byList(recs)); diff != "" {
		t.Errorf("lists mismatch (-want +got):\n%s", diff)
	}
	ages := map[MCEList][2]int{}
	for _, r := range recs {
		if r.List.IsAge() {
			ages[r.List] = [2]int{r.MinAge, r.MaxAge}
		}
		if r.Title == "" {
			t.Errorf("%s %s: no title", r.List, r.Code)
		}
	}
	wantAges := map[MCEList][2]int{MCEPerinatal: {0, 0}, MCEPediatric: {0, 17}, MCEMaternity: {9, 64}, MCEAdult: {15, 124}}
	if diff := cmp.Diff(wantAges, ages); diff != "" {
		t.Errorf("age ranges mismatch (-want +got):\n%s", diff)
	}
	// The title page says "ICD-10 MCE Version 43.1": loaded as another
	// version it is refused; as v43.1 spelled otherwise, accepted.
	for _, v := range []string{"44", "43", "v44.1"} {
		if _, err := readMCEAll(t, data, v); err == nil || !strings.Contains(err.Error(), `the file is MCE version "43.1"`) {
			t.Errorf("the v43.1 text file loaded as %s: %v, want the version refused", v, err)
		}
	}
	if _, err := readMCEAll(t, data, "V43.1"); err != nil {
		t.Errorf("the v43.1 text file loaded as V43.1: %v", err)
	}
}

func readMCEFile(r io.Reader) ([]byte, error) { return io.ReadAll(r) }

// TestReadMCEJSON reads the bundled v43.1 extraction: the counts of
// SOURCES.upstream.md §7 and the age ranges of the file.
func TestReadMCEJSON(t *testing.T) {
	recs, err := readMCEAll(t, bundled(t, "mce_v43_1_reference.json"), "v43.1")
	if err != nil {
		t.Fatal(err)
	}
	got := map[MCEList]int{}
	ages := map[MCEList][2]int{}
	for _, r := range recs {
		got[r.List]++
		if r.List.IsAge() {
			ages[r.List] = [2]int{r.MinAge, r.MaxAge}
		}
	}
	want := map[MCEList]int{MCEPerinatal: 42, MCEPediatric: 125, MCEMaternity: 2543, MCEAdult: 856, MCEManifestation: 422,
		MCEQuestionableAdmission: 30, MCEUnacceptablePrincipal: 2651, MCEUnacceptableAlone: 1}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("counts mismatch (-want +got):\n%s", diff)
	}
	wantAges := map[MCEList][2]int{MCEPerinatal: {0, 0}, MCEPediatric: {0, 17}, MCEMaternity: {9, 64}, MCEAdult: {15, 124}}
	if diff := cmp.Diff(wantAges, ages); diff != "" {
		t.Errorf("age ranges mismatch (-want +got):\n%s", diff)
	}
	if _, err := readMCEAll(t, bundled(t, "mce_v43_1_reference.json"), "44"); err == nil {
		t.Error("the v43.1 file loaded as v44: want an error")
	}
}

// TestLoadMCEMalformed: a malformed MCE file is refused with a clear
// error, and the catalog keeps what it had.
func TestLoadMCEMalformed(t *testing.T) {
	text, err := readMCEFile(openTestdata(t, mceTextFixture))
	if err != nil {
		t.Fatal(err)
	}
	good := string(bundled(t, "mce_v43_1_reference.json"))
	for _, tt := range []struct {
		name, data, want string
	}{
		{"empty", "", "no records"},
		{"truncated JSON", good[:len(good)/2], "JSON"},
		{"JSON age list without a range", strings.Replace(good, `"pediatric": "age 0 through 17 (inclusive)"`, `"pediatric": "children"`, 1), "no age range for the pediatric list"},
		{"JSON unknown age list", strings.Replace(good, `"perinatal": {`, `"elderly": {`, 1), `unknown age list "elderly"`},
		{"JSON not a code", strings.Replace(good, `"A33": "Tetanus neonatorum"`, `"33A": "Tetanus neonatorum"`, 1), `"33A" is not an ICD-10-CM code`},
		{"JSON of another version", strings.Replace(good, `"mce_version": "43.1"`, `"mce_version": "42"`, 1), `MCE version "42"`},
		{"text age heading without range", strings.Replace(string(text), "B. Pediatric diagnoses (age 0 through 17)\r\n", "B. Pediatric diagnoses\r\n", 1), "no age range in the heading of the pediatric list"},
		{"text of another version", strings.Replace(string(text), "ICD-10 MCE Version 43.1", "ICD-10 MCE Version 42", 1), `MCE version "42"`},
		{"text without lists", "Definitions of Medicare Code Edits\r\n1. Invalid diagnosis or procedure code\r\n", "no records"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := NewCatalog()
			rel, _ := NewRelease(MCE, "43.1")
			if _, err := c.Load(rel, strings.NewReader(string(text))); err != nil {
				t.Fatal(err)
			}
			_, err := c.Load(rel, strings.NewReader(tt.data))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load = %v, want an error containing %q", err, tt.want)
			}
			f, err := c.MCE(context.Background(), "O80", ymd(2026, 5, 1))
			if err != nil || len(f.Lists) != 1 || f.Lists[0].List != MCEMaternity {
				t.Errorf("after the failed load O80 = %+v, %v; want the release loaded before kept", f, err)
			}
		})
	}
}

// TestCatalogMCE: the release covering the date is applied (the April
// update over its fiscal year's release); with none covering it, the
// nearest one, with a note (the newest for a later date: "no later MCE
// release is loaded").
func TestCatalogMCE(t *testing.T) {
	ctx := context.Background()
	bundledOnly := bundledCatalog(t)
	more := NewCatalog()
	if err := LoadBundled(more); err != nil {
		t.Fatal(err)
	}
	text, err := readMCEFile(openTestdata(t, mceTextFixture))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"43", "45"} { // the text extract, its title page saying v43 and v45
		rel, _ := NewRelease(MCE, v)
		as := strings.Replace(string(text), "ICD-10 MCE Version 43.1", "ICD-10 MCE Version "+v, 1)
		if _, err := more.Load(rel, strings.NewReader(as)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		name    string
		cat     *Catalog
		code    string
		dos     time.Time
		version string
		note    string
		lists   []MCEListing
	}{
		{"in its window", bundledOnly, "O80", ymd(2026, 5, 1), "v43.1", "", []MCEListing{{MCEMaternity, "Encounter for full-term uncomplicated delivery", 9, 64}}},
		{"dotted code", bundledOnly, "d63.0", ymd(2026, 5, 1), "v43.1", "", []MCEListing{{List: MCEManifestation, Title: "Anemia in neoplastic disease"}}},
		{"on no list", bundledOnly, "J20.9", ymd(2026, 5, 1), "v43.1", "", nil},
		{"later date: the newest applied", bundledOnly, "O80", ymd(2026, 12, 1), "v43.1",
			"MCE v43.1 (valid to 2026-09-30) applied: no later MCE release is loaded", []MCEListing{{MCEMaternity, "Encounter for full-term uncomplicated delivery", 9, 64}}},
		{"earlier date: the oldest applied", bundledOnly, "A33", ymd(2025, 11, 14), "v43.1",
			"MCE v43.1 (valid from 2026-04-01) applied: no earlier MCE release is loaded", []MCEListing{{MCEPerinatal, "Tetanus neonatorum", 0, 0}}},
		{"v43 in the first half of FY2026", more, "O80", ymd(2025, 11, 14), "v43", "", []MCEListing{{MCEMaternity, "Encounter for full-term uncomplicated delivery", 9, 64}}},
		{"v43.1 over v43 from April", more, "J20.9", ymd(2026, 9, 30), "v43.1", "", nil},
		{"a gap before a later release", more, "O80", ymd(2027, 1, 5), "v43.1",
			"MCE v43.1 (valid to 2026-09-30) applied: no MCE release covering 2027-01-05 is loaded", []MCEListing{{MCEMaternity, "Encounter for full-term uncomplicated delivery", 9, 64}}},
		{"v45 in FY2028", more, "O80", ymd(2028, 1, 5), "v45", "", []MCEListing{{MCEMaternity, "Encounter for full-term uncomplicated delivery", 9, 64}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, err := tt.cat.MCE(ctx, tt.code, tt.dos)
			if err != nil {
				t.Fatal(err)
			}
			if f.Release.Version != tt.version || f.Note != tt.note || f.Outside != (tt.note != "") {
				t.Errorf("release %s, note %q, outside %v; want %s, %q", f.Release.Version, f.Note, f.Outside, tt.version, tt.note)
			}
			if diff := cmp.Diff(tt.lists, f.Lists); diff != "" {
				t.Errorf("lists mismatch (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := NewCatalog().MCE(ctx, "O80", ymd(2026, 5, 1)); !errors.Is(err, ErrNoRelease) {
		t.Errorf("no MCE loaded: %v, want ErrNoRelease", err)
	}
}
