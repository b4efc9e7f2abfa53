package edits

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/codebridge/codebridge/mapping/codes"
)

// tab is a Tabular List edit citing the note of kind at node.
func tab(code string, sev Severity, target, kind, at string) Edit {
	return Edit{Code: code, Severity: sev, Target: target, Rule: "ICD-10-CM Tabular List FY2027, " + kind + " note at " + at}
}

// TestTabularEdits has one row per Tabular List instruction, a passing
// and a failing chart each, on the hand-made fixture in the official
// schema (testdata/codesets/icd10cm_tabular_fixture.xml), with notes
// written at a chapter, a section, a category and a subcategory. The
// ICD-10-CM codes are real FY2026 codes (the office visit's date). The
// edits of the other classification rule sets (MCE_*, GL_*) on the same
// charts are theirs to test (mce_test.go, guidelines_test.go) and are left
// out here; where the MCE also fires on a Tabular row,
// TestTabularAndMCEAgree pins both.
func TestTabularEdits(t *testing.T) {
	newborn := func(c *Chart) { c.BirthDate = date(2025, 11, 10) }
	both := func(fs ...func(*Chart)) func(*Chart) {
		return func(c *Chart) {
			for _, f := range fs {
				f(c)
			}
		}
	}
	tests := []struct {
		name   string
		change func(*Chart)
		want   []Edit
	}{
		// Excludes1 (I.A.12.a), at the category, in both orders.
		{"excludes1 pass: E11.9 with an unrelated I10", dx("E11.9", "I10"), nil},
		{"excludes1 at E11: E11.9 with E10.9", dx("E11.9", "E10.9"),
			[]Edit{tab(TabularExcludes1, Error, "diagnoses[1]", "Excludes1", "E11")}},
		{"excludes1 at E10: E10.9 with E11.65", dx("E10.9", "E11.65"),
			[]Edit{tab(TabularExcludes1, Error, "diagnoses[1]", "Excludes1", "E10")}},
		// Inherited: a chapter's note applies to every code in it, a
		// section's to every category in it.
		{"excludes1 inherited pass: E11.9 with P07.30 on a newborn", both(newborn, dx("E11.9", "P07.30")), nil},
		{"excludes1 inherited from chapter 4: E11.9 with P70.4", both(newborn, dx("E11.9", "P70.4")),
			[]Edit{tab(TabularExcludes1, Error, "diagnoses[1]", "Excludes1", "chapter 4")}},
		{"excludes1 inherited from section G60-G65: G63 with M79.2", dx("E85.1", "G63", "M79.2"),
			[]Edit{tab(TabularExcludes1, Error, "diagnoses[2]", "Excludes1", "section G60-G65")}},
		{"excludes1 with .42: G63 with E11.42", dx("E11.42", "G63"), []Edit{
			tab(TabularExcludes1, Error, "diagnoses[1]", "Excludes1", "G63"),
			tab(TabularEtiologyUnlisted, Warning, "diagnoses[1]", "code first", "G63")}},
		// Excludes2 (I.A.12.b) is information only.
		{"excludes2 is no edit: S52.521A with S62.101A", dx("S52.521A", "S62.101A"), nil},
		{"excludes1 at S52: S52.521A with S58.011A", dx("S52.521A", "S58.011A"),
			[]Edit{tab(TabularExcludes1, Error, "diagnoses[1]", "Excludes1", "S52")}},
		// Code first (I.A.13, I.B.7).
		{"code first pass: E03.9 then G63", dx("E03.9", "G63"), nil},
		{"code first: G63 before E03.9", dx("G63", "E03.9"),
			[]Edit{tab(TabularCodeFirst, Error, "diagnoses[0]", "code first", "G63")}},
		{"code first pass: E85.1, G63, then E03.9", dx("E85.1", "G63", "E03.9"), nil},
		{"code first: G63 alone", dx("G63"), []Edit{tab(TabularCodeFirst, Error, "diagnoses[0]", "code first", "G63")}},
		{"code first: G63 first-listed before an unrelated J20.9", dx("G63", "J20.9"),
			[]Edit{tab(TabularCodeFirst, Error, "diagnoses[0]", "code first", "G63")}},
		{"code first: G63 after a diagnosis its note does not name", dx("J20.9", "G63"),
			[]Edit{tab(TabularEtiologyUnlisted, Warning, "diagnoses[1]", "code first", "G63")}},
		// Drug-induced notes qualified "with fifth or sixth character": E09's
		// code first names the poisonings (1-4, 6) only, its use additional
		// code the adverse effects (5) only; an adverse effect follows the
		// nature of the effect (I.C.19.e.5.a), a poisoning is sequenced
		// first (I.C.19.e.5.b).
		{"drug qualifier pass: E09.9 then the adverse effect T39.015A", dx("E09.9", "T39.015A"), nil},
		{"drug qualifier pass: the poisoning T39.011A then E09.9", dx("T39.011A", "E09.9"), nil},
		{"drug qualifier: E09.9 before the poisoning T39.011A", dx("E09.9", "T39.011A"),
			[]Edit{tab(TabularCodeFirst, Error, "diagnoses[0]", "code first", "E09")}},
		{"drug qualifier: the adverse effect T39.015A before E09.9, a person confirms", dx("T39.015A", "E09.9"),
			[]Edit{tab(TabularUseAdditional, Warning, "diagnoses[0]", "use additional code", "E09")}},
		{"drug qualifier pass: E09.9 alone (code first if applicable)", dx("E09.9"), nil},
		// The note names underdosings (6) too, but an underdosing code is
		// never first-listed (I.C.19.e.5.c): E09.9 before it is a person's
		// warning, not an error (the guideline edit, filtered out here,
		// refuses the other order).
		{"drug qualifier: E09.9 before the underdosing T39.016A, a person confirms", dx("E09.9", "T39.016A"),
			[]Edit{tab(TabularCodeFirst, Warning, "diagnoses[0]", "code first", "E09")}},
		{"drug qualifier: the underdosing T39.016A before E09.9 (no Tabular edit)", dx("T39.016A", "E09.9"), nil},
		// "Code first, for adverse effects, the nature of the adverse
		// effect" at section T36-T50 applies to the adverse effects only.
		{"adverse effect pass: the poisoning T39.011A alone", dx("T39.011A"), nil},
		{"adverse effect pass: T39.015A alone (for adverse effects: a person codes the nature)", dx("T39.015A"), nil},
		{"adverse effect pass: K29.70 then T39.015A", dx("K29.70", "T39.015A"), nil},
		{"adverse effect: T39.015A before its nature K29.70", dx("T39.015A", "K29.70"),
			[]Edit{tab(TabularCodeFirst, Error, "diagnoses[0]", "code first", "section T36-T50")}},
		{"adverse effect pass: the poisoning T39.011A before K29.70", dx("T39.011A", "K29.70"), nil},
		// Use additional code (I.B.7).
		{"use additional code pass: E11.9 then Z79.4", dx("E11.9", "Z79.4"), nil},
		{"use additional code: Z79.4 before E11.9, a person confirms", dx("Z79.4", "E11.9"),
			[]Edit{tab(TabularUseAdditional, Warning, "diagnoses[0]", "use additional code", "E11")}},
		{"use additional code pass: N39.0 then B96.20", dx("N39.0", "B96.20"), nil},
		{"use additional code: the agent B96.20 before N39.0", dx("B96.20", "N39.0"),
			[]Edit{tab(TabularUseAdditional, Error, "diagnoses[0]", "use additional code", "N39.0")}},
		// 7th characters (I.A.3, I.A.4, I.A.5), defined at the category.
		{"7th character pass: S52.521A", dx("S52.521A"), nil},
		{"7th character missing: S52.521", dx("S52.521"), []Edit{
			e(DxHeader, Error, "diagnoses[0]"),
			tab(TabularSeventhChar, Error, "diagnoses[0]", "7th character (sevenChrDef)", "S52")}},
		{"7th character not defined: S52.521Z", dx("S52.521Z"), []Edit{
			e(DxUnknown, Error, "diagnoses[0]"),
			tab(TabularSeventhChar, Error, "diagnoses[0]", "7th character (sevenChrDef)", "S52")}},
		{"placeholder pass: S52.90XA, S13.4XXA", dx("S52.90XA", "S13.4XXA"), nil},
		{"placeholder missing in a 5-character code: S52.90A", dx("S52.90A"), []Edit{
			e(DxUnknown, Error, "diagnoses[0]"),
			tab(TabularSeventhChar, Error, "diagnoses[0]", "7th character (sevenChrDef)", "S52")}},
		{"placeholders missing in a 4-character code: S13.4A", dx("S13.4A"), []Edit{
			e(DxUnknown, Error, "diagnoses[0]"),
			tab(TabularSeventhChar, Error, "diagnoses[0]", "7th character (sevenChrDef)", "S13")}},
		{"7th character and placeholders missing: S13.4", dx("S13.4"), []Edit{
			e(DxHeader, Error, "diagnoses[0]"),
			tab(TabularSeventhChar, Error, "diagnoses[0]", "7th character (sevenChrDef)", "S13")}},
	}
	cat := testCatalog(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := office()
			tt.change(&c)
			got, err := Check(context.Background(), cat, c)
			if err != nil {
				t.Fatal(err)
			}
			got = withoutRuleSets(got, "MCE_", "GL_")
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty(), cmpopts.IgnoreFields(Edit{}, "Message", "RuleText")); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
			for _, ed := range got {
				if strings.HasPrefix(ed.Code, "TABULAR_") && (ed.RuleText == "" || ed.Message == "") {
					t.Errorf("%s: rule text %q, message %q", ed.Code, ed.RuleText, ed.Message)
				}
			}
		})
	}
}

// withoutRuleSets drops the edits whose code starts with one of prefixes:
// another rule set's edits, which its own tests check.
func withoutRuleSets(es []Edit, prefixes ...string) []Edit {
	return slices.DeleteFunc(slices.Clone(es), func(e Edit) bool {
		return slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(e.Code, p) })
	})
}

// TestTabularAndMCEAgree: where the Tabular List and the Medicare Code
// Editor both fire on one chart (a manifestation first-listed; an agent
// code of B95-B97, which the MCE lists as unacceptable principal,
// first-listed) the coder gets one edit from each source, each naming its
// own, on the same diagnosis, and neither tells the coder something the
// other contradicts: both say the first-listed code is not to stay first.
func TestTabularAndMCEAgree(t *testing.T) {
	tests := []struct {
		name  string
		dx    []string
		stay  bool
		want  []Edit // Rule: the source each names (a prefix)
		agree string // what the MCE edit's message says, as the Tabular edit does
	}{
		{"G63 alone", []string{"G63"}, false, []Edit{
			{Code: TabularCodeFirst, Severity: Error, Target: "diagnoses[0]", Rule: "ICD-10-CM Tabular List FY2027, code first note at G63"},
			{Code: MCEManifestationAsPrincipal, Severity: Error, Target: "diagnoses[0]", Rule: "Medicare Code Editor v43.1: Manifestation code as principal diagnosis §6"},
		}, "cannot be the first-listed diagnosis: sequence the underlying condition first"},
		{"G63 before E03.9", []string{"G63", "E03.9"}, false, []Edit{
			{Code: TabularCodeFirst, Severity: Error, Target: "diagnoses[0]", Rule: "ICD-10-CM Tabular List FY2027, code first note at G63"},
			{Code: MCEManifestationAsPrincipal, Severity: Error, Target: "diagnoses[0]", Rule: "Medicare Code Editor v43.1: Manifestation code as principal diagnosis §6"},
		}, "cannot be the first-listed diagnosis: sequence the underlying condition first"},
		{"G63 before E03.9, inpatient principal", []string{"G63", "E03.9"}, true, []Edit{
			{Code: TabularCodeFirst, Severity: Error, Target: "diagnoses[0]", Rule: "ICD-10-CM Tabular List FY2027, code first note at G63"},
			{Code: MCEManifestationAsPrincipal, Severity: Error, Target: "diagnoses[0]", Rule: "Medicare Code Editor v43.1: Manifestation code as principal diagnosis §6"},
		}, "cannot be the principal diagnosis: sequence the underlying condition first"},
		{"the agent B96.20 before N39.0", []string{"B96.20", "N39.0"}, false, []Edit{
			{Code: TabularUseAdditional, Severity: Error, Target: "diagnoses[0]", Rule: "ICD-10-CM Tabular List FY2027, use additional code note at N39.0"},
			{Code: MCEUnacceptablePrincipal, Severity: Warning, Target: "diagnoses[0]",
				Rule: "Medicare Code Editor v43.1: Unacceptable principal diagnosis §9; ICD-10-CM Official Guidelines FY2026 Section IV (outpatient)"},
		}, "is on the MCE list of unacceptable principal diagnoses"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := office()
			if tt.stay {
				c = stay()
			}
			dx(tt.dx...)(&c)
			got, err := Check(context.Background(), testCatalog(t), c)
			if err != nil {
				t.Fatal(err)
			}
			got = slices.DeleteFunc(got, func(e Edit) bool {
				return !strings.HasPrefix(e.Code, "TABULAR_") && !strings.HasPrefix(e.Code, "MCE_")
			})
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty(), cmpopts.IgnoreFields(Edit{}, "Message", "RuleText")); diff != "" {
				t.Fatalf("mismatch (-want +got):\n%s", diff)
			}
			tab, mce := got[0], got[1]
			first := codes.Display(codes.ICD10CM, tt.dx[0])
			if !strings.Contains(tab.Message, first) || !strings.Contains(mce.Message, first) {
				t.Errorf("messages do not both name %s: %q / %q", first, tab.Message, mce.Message)
			}
			if !strings.Contains(mce.Message, tt.agree) {
				t.Errorf("MCE message %q, want it to say %q", mce.Message, tt.agree)
			}
			for _, ed := range got {
				if ed.RuleText == "" {
					t.Errorf("%s without its rule text", ed.Code)
				}
			}
		})
	}
}

// TestTabularEditWords pins the message and rule text of one edit of each
// kind: the coder reads the note's own words beside the codes.
func TestTabularEditWords(t *testing.T) {
	tests := []struct {
		dx       []string
		message  string
		ruleText string
	}{
		{[]string{"E11.9", "E10.9"},
			"ICD-10-CM E11.9 and E10.9 may not be reported together: the Excludes1 note at E11 (in force for E11.9) excludes E10.9 " +
				"(ICD-10-CM Official Guidelines I.A.12.a: the excluded code is never used at the same time as the code above the note)",
			"Excludes1: type 1 diabetes mellitus (E10.-)"},
		{[]string{"G63", "E03.9"},
			`ICD-10-CM G63 is listed before E03.9, but the "code first" note at G63 sequences E03.9 first (ICD-10-CM Official Guidelines I.A.13 and I.B.7)`,
			"Code first underlying disease, such as: amyloidosis (E85.-); endocrine disease, except diabetes (E00-E07, E15-E16, E20-E34); " +
				"metabolic diseases (E70-E88); neoplasm (C00-D49)"},
		{[]string{"Z79.4", "E11.9"},
			`ICD-10-CM Z79.4 is listed before E11.9, whose "use additional code" note at E11 names it as a secondary code: confirm ` +
				"the sequence (ICD-10-CM Official Guidelines I.B.7: the additional code follows; Section IV.G: the first-listed " +
				"diagnosis is the chief reason for the encounter)",
			"Use additional code to identify control using: insulin (Z79.4); oral antidiabetic drugs (Z79.84)"},
		{[]string{"B96.20", "N39.0"},
			`ICD-10-CM B96.20 (Unspecified Escherichia coli [E. coli] as the cause of diseases classified elsewhere) is listed before N39.0, ` +
				`but the "use additional code" note at N39.0 makes it a secondary code that follows N39.0 (ICD-10-CM Official Guidelines I.B.7 and I.A.13)`,
			"Use additional code (B95-B97), to identify infectious agent."},
		{[]string{"S13.4A"},
			"ICD-10-CM S13.4A is not a valid code of S13.4: the 7th character of S13.4 is the seventh character of the code, " +
				"the placeholder X filling the positions before it (ICD-10-CM Official Guidelines I.A.4, I.A.5): e.g. S13.4XXA",
			"The appropriate 7th character is to be added to each code from category S13: A initial encounter; D subsequent encounter; S sequela"},
	}
	for _, tt := range tests {
		c := office()
		dx(tt.dx...)(&c)
		got, err := Check(context.Background(), testCatalog(t), c)
		if err != nil {
			t.Fatal(err)
		}
		var ed *Edit
		for i := range got {
			if strings.HasPrefix(got[i].Code, "TABULAR_") {
				ed = &got[i]
			}
		}
		if ed == nil {
			t.Fatalf("%v: no Tabular edit in %v", tt.dx, got)
		}
		if ed.Message != tt.message || ed.RuleText != tt.ruleText {
			t.Errorf("%v:\nmessage   %q\nwant      %q\nrule text %q\nwant      %q", tt.dx, ed.Message, tt.message, ed.RuleText, tt.ruleText)
		}
	}
}

// noTabular hides the Tabular List, as on an install where the operator
// has not loaded it.
type noTabular struct{ codes.Lookup }

func (noTabular) Tabular(context.Context, string, time.Time) (codes.TabularInstructions, error) {
	return codes.TabularInstructions{}, codes.ErrNoRelease
}

// TestTabularCoverage checks that without a Tabular List for the date the
// Tabular edits are not run and the chart says so once, with a coverage
// note naming icd10cm-tabular, which only a site's allowlist lets a
// straight-through claim pass (AllowableCoverageNotes).
func TestTabularCoverage(t *testing.T) {
	c := office()
	dx("E11.9", "E10.9", "S52.521")(&c)
	got, err := Check(context.Background(), noTabular{testCatalog(t)}, c)
	if err != nil {
		t.Fatal(err)
	}
	want := []Edit{e(DxHeader, Error, "diagnoses[2]"), note(NoReleaseForDOS, codes.ICD10CMTabular, "diagnoses")}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(Edit{}, "Message")); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	if !IsCoverageNote(got[1].Code) || !strings.Contains(got[1].Message, "Excludes1") {
		t.Errorf("coverage note %+v", got[1])
	}
	if !slices.Contains(AllowableCoverageNotes(), "NO_RELEASE_FOR_DOS:icd10cm-tabular") {
		t.Errorf("AllowableCoverageNotes() = %v, lacks NO_RELEASE_FOR_DOS:icd10cm-tabular", AllowableCoverageNotes())
	}
	// A lookup failure is an error of Check, never a pass.
	if _, err := Check(context.Background(), failingTabular{testCatalog(t)}, c); err == nil {
		t.Error("Check with a failing Tabular lookup: nil error")
	}
}

// failingTabular fails Tabular lookups, as a broken database would.
type failingTabular struct{ codes.Lookup }

func (failingTabular) Tabular(context.Context, string, time.Time) (codes.TabularInstructions, error) {
	return codes.TabularInstructions{}, errors.New("connection refused")
}
