package edits

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/codebridge/codebridge/mapping/codes"
	"github.com/google/go-cmp/cmp"
)

// mceVisit is an office visit on 2026-05-01, inside the window of the
// bundled MCE v43.1 (2026-04-01..2026-09-30), without service lines.
func mceVisit() Chart {
	return Chart{Sex: Female, BirthDate: date(1990, 1, 15), Class: "AMB", ClaimType: Professional,
		Start: date(2026, 5, 1), Diagnoses: []Diagnosis{{Code: "J20.9"}}}
}

// mceStay is an inpatient stay discharged on 2026-05-01.
func mceStay() Chart {
	return Chart{Sex: Female, BirthDate: date(1990, 1, 15), Class: "IMP", ClaimType: Institutional,
		Start: date(2026, 4, 28), End: date(2026, 5, 1), Diagnoses: []Diagnosis{{Code: "J20.9", POA: "Y"}}}
}

// mceEdit is the part of an edit the MCE rows pin.
type mceEdit struct {
	Code     string
	Severity Severity
	Target   string
	Rule     string
}

const mceV431 = "Medicare Code Editor v43.1: "

// TestCheckMCE runs one passing and one failing chart per MCE rule kind on
// the bundled MCE v43.1 and FY2026 ICD-10-CM (testCatalog). Only the MCE
// edits (and the demographic table's, which they replace) are compared.
func TestCheckMCE(t *testing.T) {
	cat := testCatalog(t)
	born := func(y int, m time.Month, d int) func(*Chart) { return func(c *Chart) { c.BirthDate = date(y, m, d) } }
	with := func(fs ...func(*Chart)) func(*Chart) {
		return func(c *Chart) {
			for _, f := range fs {
				f(c)
			}
		}
	}
	male := func(c *Chart) { c.Sex = Male }
	for _, tt := range []struct {
		name    string
		base    func() Chart
		change  func(*Chart)
		lookup  codes.Lookup
		want    []mceEdit
		message string // a part of the first edit's message
	}{
		{name: "perinatal Z38.00 at age 0", base: mceVisit, change: with(dx("Z38.00"), born(2026, 4, 30))},
		{name: "perinatal Z38.00 at 36: error", base: mceVisit, change: dx("Z38.00"),
			want:    []mceEdit{{MCEAgeConflict, Error, "diagnoses[0]", mceV431 + "Age conflict (perinatal/newborn diagnoses, age 0) §4.A"}},
			message: "ICD-10-CM Z38.00 is on the MCE list of perinatal/newborn diagnoses (age 0)"},
		{name: "perinatal: age on the discharge date of a stay", base: mceStay, change: with(dx("Z38.00"), born(2025, 4, 30)),
			want: []mceEdit{{MCEAgeConflict, Error, "diagnoses[0]", mceV431 + "Age conflict (perinatal/newborn diagnoses, age 0) §4.A"}}},
		{name: "pediatric A48.51 at 5", base: mceVisit, change: with(dx("A48.51"), born(2021, 1, 1))},
		{name: "pediatric A48.51 at 36: error", base: mceVisit, change: dx("A48.51"),
			want: []mceEdit{{MCEAgeConflict, Error, "diagnoses[0]", mceV431 + "Age conflict (pediatric diagnoses, age 0-17) §4.B"}}},
		{name: "maternity O80 at 64 (birthday tomorrow)", base: mceVisit, change: with(dx("O80"), born(1961, 5, 2))},
		{name: "maternity O80 at 65: warning", base: mceVisit, change: with(dx("O80"), born(1961, 5, 1)),
			want: []mceEdit{{MCEAgeConflict, Warning, "diagnoses[0]", mceV431 + "Age conflict (maternity diagnoses, age 9-64) §4.C"}}},
		{name: "adult F01.50 at 70", base: mceVisit, change: with(dx("F01.50"), born(1956, 1, 1))},
		{name: "adult F01.50 at 10: warning", base: mceVisit, change: with(dx("F01.50"), born(2016, 1, 1)),
			want: []mceEdit{{MCEAgeConflict, Warning, "diagnoses[0]", mceV431 + "Age conflict (adult diagnoses, age 15-124) §4.D"}}},
		{name: "no birth date: ages not checked", base: mceVisit, change: with(dx("Z38.00"), func(c *Chart) { c.BirthDate = time.Time{} })},
		{name: "manifestation D63.1 after its etiology", base: mceVisit, change: dx("N18.4", "D63.1")},
		{name: "manifestation D63.1 first-listed: error", base: mceVisit, change: dx("D63.1", "N18.4"),
			want:    []mceEdit{{MCEManifestationAsPrincipal, Error, "diagnoses[0]", mceV431 + "Manifestation code as principal diagnosis §6"}},
			message: "cannot be the first-listed diagnosis"},
		{name: "manifestation D63.1 principal of a stay: error", base: mceStay, change: dx("D63.1", "N18.4"),
			want:    []mceEdit{{MCEManifestationAsPrincipal, Error, "diagnoses[0]", mceV431 + "Manifestation code as principal diagnosis §6"}},
			message: "cannot be the principal diagnosis"},
		{name: "unacceptable B95.0 secondary in a stay", base: mceStay, change: dx("J02.0", "B95.0")},
		{name: "unacceptable B95.0 principal of a stay: error", base: mceStay, change: dx("B95.0", "J02.0"),
			want: []mceEdit{{MCEUnacceptablePrincipal, Error, "diagnoses[0]", mceV431 + "Unacceptable principal diagnosis §9"}}},
		{name: "unacceptable Z00.00 principal of a stay: error", base: mceStay, change: dx("Z00.00"),
			want: []mceEdit{{MCEUnacceptablePrincipal, Error, "diagnoses[0]", mceV431 + "Unacceptable principal diagnosis §9"}}},
		{name: "Z00.00 first-listed at a routine exam (Guidelines IV.P)", base: mceVisit, change: dx("Z00.00")},
		{name: "O09.511 first-listed at a high-risk prenatal visit (I.C.15.b.2)", base: mceVisit, change: dx("O09.511")},
		{name: "Z34.00 first-listed at a normal prenatal visit (I.C.21.c.11)", base: mceVisit, change: dx("Z34.00")},
		{name: "Z12.31 first-listed at a screening mammogram (I.C.21.c.5)", base: mceVisit, change: dx("Z12.31")},
		{name: "Z51.11 first-listed at chemotherapy (I.C.21.c.15)", base: mceVisit, change: dx("Z51.11", "C50.911")},
		{name: "Z88.9 (nonspecific, I.C.21.c.14) first-listed outpatient", base: mceVisit, change: dx("Z88.9")},
		{name: "BMI Z68.41 first-listed outpatient: warning (I.B.14)", base: mceVisit, change: dx("Z68.41", "E66.01"),
			want:    []mceEdit{{MCEUnacceptablePrincipal, Warning, "diagnoses[0]", mceV431 + "Unacceptable principal diagnosis §9; ICD-10-CM Official Guidelines FY2026 Section IV (outpatient), I.B.14"}},
			message: "the Official Guidelines report it as a secondary code, not the reason for an encounter (I.B.14)"},
		{name: "BMI Z68.41 secondary outpatient", base: mceVisit, change: dx("E66.01", "Z68.41")},
		{name: "outcome of delivery Z37.0 first-listed outpatient: warning (I.C.21.c.11)", base: mceVisit, change: dx("Z37.0", "O80"),
			want: []mceEdit{{MCEUnacceptablePrincipal, Warning, "diagnoses[0]", mceV431 + "Unacceptable principal diagnosis §9; ICD-10-CM Official Guidelines FY2026 Section IV (outpatient), I.C.21.c.11"}}},
		{name: "DNR Z66 first-listed outpatient: warning (status, I.C.21.c.3)", base: mceVisit, change: dx("Z66"),
			want: []mceEdit{{MCEUnacceptablePrincipal, Warning, "diagnoses[0]", mceV431 + "Unacceptable principal diagnosis §9; ICD-10-CM Official Guidelines FY2026 Section IV (outpatient), I.C.21.c.3"}}},
		{name: "blood type Z67.10 first-listed outpatient: warning (status, I.C.21.c.3)", base: mceVisit, change: dx("Z67.10"),
			want: []mceEdit{{MCEUnacceptablePrincipal, Warning, "diagnoses[0]", mceV431 + "Unacceptable principal diagnosis §9; ICD-10-CM Official Guidelines FY2026 Section IV (outpatient), I.C.21.c.3"}}},
		{name: "weeks of gestation Z3A.20 first-listed outpatient: warning (I.C.21.c.11)", base: mceVisit, change: dx("Z3A.20", "O26.891"),
			want: []mceEdit{{MCEUnacceptablePrincipal, Warning, "diagnoses[0]", mceV431 + "Unacceptable principal diagnosis §9; ICD-10-CM Official Guidelines FY2026 Section IV (outpatient), I.C.21.c.11"}}},
		{name: "SDOH Z59.00 first-listed outpatient: warning (I.B.14)", base: mceVisit, change: dx("Z59.00", "J20.9"),
			want: []mceEdit{{MCEUnacceptablePrincipal, Warning, "diagnoses[0]", mceV431 + "Unacceptable principal diagnosis §9; ICD-10-CM Official Guidelines FY2026 Section IV (outpatient), I.B.14"}}},
		{name: "history Z85.3 first-listed outpatient: warning (I.C.21.c.4)", base: mceVisit, change: dx("Z85.3"),
			want: []mceEdit{{MCEUnacceptablePrincipal, Warning, "diagnoses[0]", mceV431 + "Unacceptable principal diagnosis §9; ICD-10-CM Official Guidelines FY2026 Section IV (outpatient), I.C.21.c.4"}}},
		{name: "unacceptable B95.0 first-listed outpatient: warning", base: mceVisit, change: dx("B95.0", "J02.0"),
			want: []mceEdit{{MCEUnacceptablePrincipal, Warning, "diagnoses[0]",
				mceV431 + "Unacceptable principal diagnosis §9; ICD-10-CM Official Guidelines FY2026 Section IV (outpatient)"}}},
		{name: "unacceptable B95.0 first on a professional claim for a stay: warning", base: mceStay,
			change: with(dx("B95.0", "J02.0"), func(c *Chart) { c.ClaimType = Professional }),
			want: []mceEdit{{MCEUnacceptablePrincipal, Warning, "diagnoses[0]",
				mceV431 + "Unacceptable principal diagnosis §9; ICD-10-CM Official Guidelines FY2026 Section IV (outpatient)"}}},
		{name: "questionable I10 first on a professional claim for a stay", base: mceStay,
			change: with(dx("I10"), func(c *Chart) { c.ClaimType = Professional })},
		{name: "Z51.89 with a secondary diagnosis", base: mceStay, change: dx("Z51.89", "C50.911")},
		{name: "Z51.89 alone: error", base: mceStay, change: dx("Z51.89"),
			want: []mceEdit{{MCEUnacceptablePrincipal, Error, "diagnoses[0]", mceV431 + "Unacceptable principal diagnosis §9 (acceptable with a secondary diagnosis)"}}},
		{name: "questionable I10 first-listed outpatient", base: mceVisit, change: dx("I10")},
		{name: "questionable I10 secondary in a stay", base: mceStay, change: dx("J20.9", "I10")},
		{name: "questionable I10 principal of a stay: warning", base: mceStay, change: dx("I10"),
			want: []mceEdit{{MCEQuestionableAdmission, Warning, "diagnoses[0]", mceV431 + "Questionable admission §8"}}},
		{name: "after v43.1: the newest applied, and said", base: mceVisit,
			change:  with(dx("O80"), born(1955, 1, 1), func(c *Chart) { c.Start = date(2026, 12, 1) }),
			want:    []mceEdit{{MCEAgeConflict, Warning, "diagnoses[0]", mceV431 + "Age conflict (maternity diagnoses, age 9-64) §4.C"}},
			message: "(Medicare Code Editor v43.1; MCE v43.1 (valid to 2026-09-30) applied: no later MCE release is loaded)"},
		{name: "no MCE release loaded: NO_RELEASE_FOR_DOS mce", base: mceVisit, change: dx("O80", "Z38.00"), lookup: noMCE{cat},
			want: []mceEdit{{NoReleaseForDOS, Warning, "diagnoses[0]", ""}}},
		{name: "SEX_CONFLICT keeps its warning and names its source", base: mceVisit, change: with(dx("O80"), male),
			want: []mceEdit{{SexConflict, Warning, "diagnoses[0]",
				"codebridge sex table (mapping/edits/demographics.go) from the ICD-10-CM Tabular List title of O00-O9A; MCE sex edit deactivated 2024-10-01"}}},
		{name: "AGE_CONFLICT of the demographic table where no MCE list applies (P59.9)", base: mceVisit, change: dx("P59.9"),
			want: []mceEdit{{AgeConflict, Warning, "diagnoses[0]", "codebridge demographic table (mapping/edits/demographics.go), after the MCE age ranges (edit 4)"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.base()
			if tt.change != nil {
				tt.change(&c)
			}
			var lk codes.Lookup = cat
			if tt.lookup != nil {
				lk = tt.lookup
			}
			got, err := Check(context.Background(), lk, c)
			if err != nil {
				t.Fatal(err)
			}
			var mine []mceEdit
			var first Edit
			for _, e := range got {
				if strings.HasPrefix(e.Code, "MCE_") || e.Code == AgeConflict || e.Code == SexConflict || e.Covers == codes.MCE {
					if mine == nil {
						first = e
					}
					mine = append(mine, mceEdit{e.Code, e.Severity, e.Target, e.Rule})
					if e.Rule != "" && e.RuleText == "" {
						t.Errorf("%s: a rule without its text", e.Code)
					}
				}
			}
			if diff := cmp.Diff(tt.want, mine); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
			if tt.message != "" && !strings.Contains(first.Message, tt.message) {
				t.Errorf("message %q, want it to contain %q", first.Message, tt.message)
			}
			for _, e := range got {
				if strings.Contains(e.Message, "1990") || strings.Contains(e.Message, "1955") || strings.Contains(e.Message, "1961") {
					t.Errorf("%s: the message names the birth date: %q", e.Code, e.Message)
				}
			}
			if testing.Verbose() && first.Code != "" {
				t.Logf("%s: %s [%s]", first.Code, first.Message, first.Rule)
			}
		})
	}
}

// noMCE hides the MCE releases, as a store loaded without them.
type noMCE struct{ codes.Lookup }

func (noMCE) MCE(context.Context, string, time.Time) (codes.MCEFacts, error) {
	return codes.MCEFacts{}, codes.ErrNoRelease
}
