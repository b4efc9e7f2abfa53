package codes

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func mustRelease(tb testing.TB, s System, v string) Release {
	tb.Helper()
	r, err := NewRelease(s, v)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// TestDeriveFY2027 applies the bundled official FY2027 ICD-10-CM order-file
// addenda to the bundled FY2026 order file: the result has the counts the
// addenda's footer states and the byte size CMS publishes for
// icd10cm_order_2027.txt (14,724,229 bytes).
func TestDeriveFY2027(t *testing.T) {
	a, err := ReadOrderAddenda(bytes.NewReader(bundledFile(t, "icd10cm_order_addenda_2027.txt")))
	if err != nil {
		t.Fatal(err)
	}
	wantCounts := [2]AddendaCounts{
		{Base: 23467, Target: 23524, Additions: 63, Deletions: 6},
		{Base: 74719, Target: 74879, Additions: 190, Deletions: 30, Revisions: 4, BothTitles: 4},
	}
	if got := [2]AddendaCounts{a.Headers, a.Codes}; got != wantCounts || a.BaseYear != 2026 || a.TargetYear != 2027 {
		t.Errorf("footer = %d->%d %+v; want 2026->2027 %+v", a.BaseYear, a.TargetYear, got, wantCounts)
	}
	base, err := ReadOrderRecords(bundledReader(t, "icd10cm_order_2026.txt"))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := DeriveOrder(a, mustRelease(t, ICD10CM, "FY2026"), base, mustRelease(t, ICD10CM, "FY2027"))
	if err != nil {
		t.Fatal(err)
	}
	headers, billable := countFlags(recs)
	if len(recs) != 98403 || billable != 74879 || headers != 23524 {
		t.Errorf("derived %d records, %d billable, %d headers; want 98403, 74879, 23524", len(recs), billable, headers)
	}
	var buf bytes.Buffer
	if err := WriteOrder(&buf, recs); err != nil {
		t.Fatal(err)
	}
	if buf.Len() != 14724229 {
		t.Errorf("derived order file is %d bytes; the official icd10cm_order_2027.txt is 14,724,229", buf.Len())
	}
	// It reads back as an order file with the same records.
	back, err := ReadOrderRecords(bytes.NewReader(buf.Bytes()))
	if err != nil || len(back) != len(recs) || back[len(back)-1] != recs[len(recs)-1] {
		t.Errorf("reading the derived file back: %d records, %v", len(back), err)
	}
	pos := map[string]int{}
	byCode := map[string]OrderRecord{}
	for i, r := range recs {
		pos[r.Code], byCode[r.Code] = i, r
		if r.Order != i+1 {
			t.Fatalf("record %d (%s) has order number %d", i, r.Code, r.Order)
		}
	}
	// Header/billable changes, additions, deletions and revisions.
	for code, want := range map[string]string{
		"D691":   "0 Qualitative platelet defects",
		"D6911":  "1 Glanzmann thrombasthenia",
		"I420":   "0 Dilated cardiomyopathy",
		"L02232": "1 Carbuncle of back [any part, except buttock and flank]",
		"Z2914":  "1 Encounter for prophylactic rabies immune globulin",
		"J4B":    "1 Pulmonary mycetoma",
		"C4A0":   "1 Merkel cell carcinoma of lip",
	} {
		r, ok := byCode[code]
		if got := fmt.Sprintf("%d %s", map[bool]int{true: 1}[r.Billable], r.Short); !ok || got != want {
			t.Errorf("%s = %q (present %v), want %q", code, got, ok, want)
		}
	}
	// Tabular placement: a header changed in place, its new children right
	// after it, a new subcategory after its preceding sibling's subtree,
	// the letter subcategory C4A still between C43 and C44.
	for _, seq := range [][]string{
		{"D690", "D691", "D6911", "D6919", "D692"},
		{"E8982", "E8983", "E89830", "E89838", "E8989"},
		{"C4391", "C4A", "C4A0"},
		{"Z87892", "Z87893"},
	} {
		for i := 1; i < len(seq); i++ {
			if pos[seq[i]] <= pos[seq[i-1]] {
				t.Errorf("%s (at %d) is not after %s (at %d)", seq[i], pos[seq[i]], seq[i-1], pos[seq[i-1]])
			}
		}
	}
	if pos["E89838"]+1 != pos["E8989"] && !strings.HasPrefix(recs[pos["E89838"]+1].Code, "E8983") {
		t.Errorf("E8983's subtree is not contiguous: %s follows E89838", recs[pos["E89838"]+1].Code)
	}
	if _, ok := byCode["Z87890"]; !ok || byCode["Z87890"].Billable {
		t.Errorf("Z87890 should be a header in FY2027: %+v", byCode["Z87890"])
	}
}

// fixture is a small base (FY2026) and an addenda to it.
const fixtureBase = `00001 A00     0 Cholera                                                      Cholera
00002 A000    1 Cholera due to Vibrio cholerae 01, biovar cholerae           Cholera due to Vibrio cholerae 01, biovar cholerae
00003 A001    1 Cholera due to Vibrio cholerae 01, biovar eltor              Cholera due to Vibrio cholerae 01, biovar eltor
00004 C43     0 Malignant melanoma of skin                                   Malignant melanoma of skin
00005 C430    1 Malignant melanoma of lip                                    Malignant melanoma of lip
00006 C4A     0 Merkel cell carcinoma                                        Merkel cell carcinoma
00007 C4A0    1 Merkel cell carcinoma of lip                                 Merkel cell carcinoma of lip
00008 C44     0 Other and unspecified malignant neoplasm of skin             Other and unspecified malignant neoplasm of skin
00009 C440    0 Other and unspecified malignant neoplasm of skin of lip      Other and unspecified malignant neoplasm of skin of lip
00010 C4400   1 Unspecified malignant neoplasm of skin of lip                Unspecified malignant neoplasm of skin of lip
`

// addendaLine formats one addenda record.
func addendaLine(action string, billable bool, code, title string) string {
	flag := "0"
	if billable {
		flag = "1"
	}
	return fmt.Sprintf("%-13s%s %-7s %-60s %s\r\n", action, flag, code, title, title)
}

// fixtureAddenda: A001 becomes a header with two codes, a new letter
// subcategory C4B with a code, A000 is deleted, C430 retitled.
func fixtureAddenda(footer string) string {
	return addendaLine("Delete:", true, "A000", "Cholera due to Vibrio cholerae 01, biovar cholerae") +
		addendaLine("Delete:", true, "A001", "Cholera due to Vibrio cholerae 01, biovar eltor") +
		addendaLine("Add:", false, "A001", "Cholera due to Vibrio cholerae 01, biovar eltor") +
		addendaLine("Add:", true, "A0011", "Cholera eltor, first") +
		addendaLine("Add:", true, "A0019", "Cholera eltor, other") +
		addendaLine("Add:", false, "C4B", "Another skin carcinoma") +
		addendaLine("Add:", true, "C4B0", "Another skin carcinoma of lip") +
		addendaLine("Revise from:", true, "C430", "Malignant melanoma of lip") +
		addendaLine("Revise to:", true, "C430", "Malignant melanoma of lip and vermilion") +
		footer
}

func footer(hBase, hTarget, hAdd, hDel, cBase, cTarget, cAdd, cDel, cRev, base, target int) string {
	return strings.ReplaceAll(fmt.Sprintf(`
Headers
  %5d headers in icd10cm_order_%d.txt
  %5d headers in icd10cm_order_%d.txt
  %5d additions
  %5d deletions
      0 revisions
of which
      0 revisions to both long and short titles
      0 revisions to long title only
      0 revisions to short title only

Codes
  %5d codes in icd10cm_order_%d.txt
  %5d codes in icd10cm_order_%d.txt
  %5d additions
  %5d deletions
  %5d revisions
of which
  %5d revisions to both long and short titles
      0 revisions to long title only
      0 revisions to short title only
`, hBase, base, hTarget, target, hAdd, hDel, cBase, base, cTarget, target, cAdd, cDel, cRev, cRev), "\n", "\r\n")
}

// goodFooter is the footer of fixtureAddenda on fixtureBase: 5 headers ->
// 7 (A001, C4B added), 5 codes -> 6 (3 added, 2 deleted), 1 revision (a
// long-and-short one).
var goodFooter = footer(5, 7, 2, 0, 5, 6, 3, 2, 1, 2026, 2027)

func TestDeriveFixture(t *testing.T) {
	a, err := ReadOrderAddenda(strings.NewReader(fixtureAddenda(goodFooter)))
	if err != nil {
		t.Fatal(err)
	}
	base, err := ReadOrderRecords(strings.NewReader(fixtureBase))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := DeriveOrder(a, mustRelease(t, ICD10CM, "FY2026"), base, mustRelease(t, ICD10CM, "2027"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, fmt.Sprintf("%d %s %v", r.Order, r.Code, r.Billable))
	}
	want := "1 A00 false,2 A001 false,3 A0011 true,4 A0019 true,5 C43 false,6 C430 true,7 C4A false,8 C4A0 true," +
		"9 C4B false,10 C4B0 true,11 C44 false,12 C440 false,13 C4400 true"
	if strings.Join(got, ",") != want {
		t.Errorf("derived\n %s\nwant\n %s", strings.Join(got, ","), want)
	}
	if recs[5].Short != "Malignant melanoma of lip and vermilion" || recs[5].Long != recs[5].Short {
		t.Errorf("C430 not retitled: %+v", recs[5])
	}
	// The base is not modified.
	if base[4].Short != "Malignant melanoma of lip" || len(base) != 10 {
		t.Errorf("base modified: %+v", base[4])
	}
}

// TestDeriveRefusals: each inconsistency between the addenda, its footer,
// the base and the requested version is refused with a message naming it.
func TestDeriveRefusals(t *testing.T) {
	body := fixtureAddenda("")
	for _, tt := range []struct {
		name, addenda string
		base          string // default fixtureBase
		baseVersion   string // default FY2026
		target        string // default FY2027
		want          string
	}{
		{name: "no footer", addenda: body, want: "footer is missing"},
		{name: "footer without the Codes section", addenda: body + strings.SplitAfter(goodFooter, "\r\nCodes")[0][:len(strings.SplitAfter(goodFooter, "\r\nCodes")[0])-5],
			want: "footer is missing or incomplete"},
		{name: "body additions differ from the footer", addenda: fixtureAddenda(footer(5, 7, 2, 0, 5, 7, 4, 2, 1, 2026, 2027)),
			want: "the body does not match the footer's Codes counts: the body has 3 additions"},
		{name: "body header deletions differ from the footer", addenda: fixtureAddenda(footer(5, 6, 2, 1, 5, 6, 3, 2, 1, 2026, 2027)),
			want: "the body does not match the footer's Headers counts"},
		{name: "footer counts do not add up", addenda: fixtureAddenda(footer(5, 8, 2, 0, 5, 6, 3, 2, 1, 2026, 2027)),
			want: "do not add up"},
		{name: "wrong base year in the footer", addenda: fixtureAddenda(footer(5, 7, 2, 0, 5, 6, 3, 2, 1, 2025, 2026)), target: "FY2026",
			want: "wrong base year: the addenda applies to FY2025"},
		{name: "base release of another year", addenda: fixtureAddenda(goodFooter), baseVersion: "FY2025",
			want: "wrong base year: the addenda applies to FY2026"},
		{name: "base counts differ from the footer", addenda: fixtureAddenda(footer(6, 8, 2, 0, 5, 6, 3, 2, 1, 2026, 2027)),
			want: "wrong base: icd10cm FY2026 has 5 headers and 5 codes, the addenda's footer states 6 headers"},
		{name: "wrong target version", addenda: fixtureAddenda(goodFooter), target: "FY2028",
			want: "updates ICD-10-CM to FY2027"},
		{name: "delete of a code not in the base", addenda: strings.Replace(fixtureAddenda(goodFooter), "A000   ", "A009   ", 1),
			want: "Delete A00.9: not in the base FY2026"},
		{name: "delete with other titles", addenda: strings.Replace(fixtureAddenda(goodFooter), "biovar cholerae", "biovar X", 1),
			want: "Delete A00.0: the base FY2026 has it as billable code"},
		{name: "revise from with other titles", addenda: strings.Replace(fixtureAddenda(goodFooter), "Malignant melanoma of lip     ", "Malignant melanoma of lips    ", 1),
			want: "Revise from C43.0: the base FY2026 has it as"},
		{name: "add of a code already present", addenda: strings.Replace(fixtureAddenda(goodFooter), "Add:         1 C4B0 ", "Add:         1 C440 ", 1),
			want: "Add: C44.0 is already in the base FY2026"},
		{name: "add of the same code twice", addenda: strings.Replace(fixtureAddenda(goodFooter), "Add:         1 A0019", "Add:         1 A0011", 1),
			want: "Add: A00.11 is added twice"},
		{name: "revise from without revise to",
			addenda: strings.Replace(fixtureAddenda(goodFooter), addendaLine("Revise to:", true, "C430", "Malignant melanoma of lip and vermilion"), "", 1),
			want:    "Revise from: C430 is not followed by its Revise to"},
		{name: "base with a header where the footer counts a code",
			addenda: fixtureAddenda(goodFooter), base: strings.Replace(fixtureBase, "00009 C440    0", "00009 C440    1", 1),
			want: "wrong base: icd10cm FY2026 has 4 headers and 6 codes"},
		{name: "ICD-10-PCS addenda (no flag)", addenda: "Add:         0016070 Bypass Cereb Vent to Nasophar with Autol Sub, Open        Bypass Cerebral Ventricle to Nasopharynx with Autologous Tissue Substitute, Open Approach\r\n" + goodFooter,
			want: "no header/billable flag"},
		{name: "not an addenda", addenda: fixtureBase, want: "neither a change record nor the footer"},
		{name: "empty", addenda: "", want: "no change records and no footer"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			base, bv, target := fixtureBase, "FY2026", "FY2027"
			if tt.base != "" {
				base = tt.base
			}
			if tt.baseVersion != "" {
				bv = tt.baseVersion
			}
			if tt.target != "" {
				target = tt.target
			}
			recs, err := ReadOrderRecords(strings.NewReader(base))
			if err != nil {
				t.Fatal(err)
			}
			a, err := ReadOrderAddenda(strings.NewReader(tt.addenda))
			if err == nil {
				_, err = DeriveOrder(a, mustRelease(t, ICD10CM, bv), recs, mustRelease(t, ICD10CM, target))
			}
			if !errors.Is(err, ErrAddendaRefused) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v; want ErrAddendaRefused containing %q", err, tt.want)
			}
		})
	}
}

// TestDeriveFlagChangeCounts: a header/billable change is a Delete of one
// kind and an Add of the other; an addenda that drops the Add while its
// footer counts it is refused on the body counts.
func TestDeriveFlagChangeCounts(t *testing.T) {
	// The fixture without the re-add of A001 as a header: the footer still
	// states 2 header additions.
	addenda := strings.Replace(fixtureAddenda(goodFooter), addendaLine("Add:", false, "A001", "Cholera due to Vibrio cholerae 01, biovar eltor"), "", 1)
	_, err := ReadOrderAddenda(strings.NewReader(addenda))
	if !errors.Is(err, ErrAddendaRefused) || !strings.Contains(err.Error(), "Headers counts: the body has 1 additions") {
		t.Errorf("error = %v; want the Headers body counts refused", err)
	}
}

// TestBundledFY2027: the FY2027 ICD-10-CM bundle is derived (not a file),
// says so in its name, and opens as the derived order file.
func TestBundledFY2027(t *testing.T) {
	var b Bundle
	for _, x := range Bundled() {
		if x.Release.System == ICD10CM && x.Release.Version == "FY2027" {
			b = x
		}
	}
	if !b.Derived() || b.Name != "icd10cm_order_addenda_2027.txt applied to icd10cm_order_2026.txt" ||
		b.Release.From != ymd(2026, 10, 1) || b.Release.To != ymd(2027, 9, 30) {
		t.Fatalf("FY2027 bundle = %+v", b)
	}
	if data := bundled(t, b.Name); len(data) != 14724229 {
		t.Errorf("FY2027 bundle opens as %d bytes, want 14724229", len(data))
	}
}
