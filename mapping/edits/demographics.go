package edits

import (
	"fmt"
	"time"

	"github.com/codebridge/codebridge/mapping/codes"
)

// demoRule ties an ICD-10-CM category range to a sex and/or an age range.
// Ranges compare the three-character category, so "O00".."O9A" is all of
// chapter 15.
type demoRule struct {
	first, last string
	sex         Sex
	minAge      int // -1: no age rule
	maxAge      int
	what        string
}

// demoRules are deliberately few and each has a source:
//
//   - Chapter 15, Pregnancy, childbirth and the puerperium (O00-O9A): female
//     only (the chapter itself) and ages 9-64, the maternity age range of
//     the CMS Medicare Code Editor (MCE) "Age conflict" edit. Older MCE
//     versions used 12-55.
//   - Chapter 16, Certain conditions originating in the perinatal period
//     (P00-P96): the MCE newborn age range, age 0. The FY2026 Official
//     Guidelines I.C.16.a.4 allow chapter 16 codes throughout life when the
//     condition still originates in the perinatal period, so this is a
//     warning to review, as every age conflict here is.
//   - The ICD-10-CM blocks whose titles name a sex: Malignant neoplasms of
//     female genital organs (C51-C58), of male genital organs (C60-C63),
//     Diseases of male genital organs (N40-N53), Inflammatory diseases of
//     female pelvic organs and Noninflammatory disorders of female genital
//     tract (N70-N98). The MCE sex-conflict lists are longer (and CMS has
//     been retiring the diagnosis sex edit), so these stay warnings.
var demoRules = []demoRule{
	{"O00", "O9A", Female, 9, 64, "an obstetric code (ICD-10-CM chapter 15)"},
	{"P00", "P96", "", 0, 0, "a perinatal code (ICD-10-CM chapter 16)"},
	{"C51", "C58", Female, -1, -1, "a malignant neoplasm of female genital organs (C51-C58)"},
	{"C60", "C63", Male, -1, -1, "a malignant neoplasm of male genital organs (C60-C63)"},
	{"N40", "N53", Male, -1, -1, "a disease of male genital organs (N40-N53)"},
	{"N70", "N98", Female, -1, -1, "a disease of female pelvic or genital organs (N70-N98)"},
}

// demographics reports sex and age conflicts for a billable diagnosis.
func (k *checker) demographics(e codes.Entry, target string) {
	if len(e.Code) < 3 {
		return
	}
	cat := e.Code[:3]
	for _, r := range demoRules {
		if cat < r.first || cat > r.last {
			continue
		}
		if r.sex != "" && (k.c.Sex == Male || k.c.Sex == Female) && k.c.Sex != r.sex {
			k.add(SexConflict, Warning, target, "ICD-10-CM %s is %s, for %s patients only", e.Display(), r.what, r.sex)
			k.citeLast(sexRule(r), sexRuleText)
		}
		// An age the MCE lists cover is MCE_AGE_CONFLICT's (mce.go).
		if r.minAge >= 0 && !k.c.BirthDate.IsZero() && !k.mceAgeListed(e.Code, target) {
			if age := ageAt(k.c.BirthDate, k.c.Start); age < r.minAge || age > r.maxAge {
				k.add(AgeConflict, Warning, target, "ICD-10-CM %s is %s, expected for ages %s", e.Display(), r.what, ages(r))
				k.citeLast("codebridge demographic table (mapping/edits/demographics.go), after the MCE age ranges (edit 4)",
					"The code's ICD-10-CM chapter is expected for ages "+ages(r)+" (the MCE range of its kind); an age outside it is a warning for a person to review. "+
						"Chapter 16 codes may be used throughout the life of the patient when the condition is still present (ICD-10-CM Official Guidelines FY2026 I.C.16.a.4).")
			}
		}
	}
}

// sexRuleText explains why SEX_CONFLICT is a warning. The CMS "Definitions
// of Medicare Code Edits" lists edit 5 as "Sex conflict (deactivated as of
// 10/01/2024)" from v42 (FY2025) on and publishes no sex lists since; the
// payer no longer edits the claim on sex, so a person reviews the code
// against the record (the patient's sex at birth, or a gender the record
// states, may differ from the administrative sex).
const sexRuleText = "CMS deactivated the Medicare Code Editor sex conflict edit as of 10/01/2024 (Definitions of Medicare Code Edits v42 onwards, edit 5); " +
	"codebridge keeps a short table of codes whose ICD-10-CM chapter or block title names a sex, as a warning for a person to review."

// sexRule names the source of a sex rule: the ICD-10-CM title that names
// the sex, and the codebridge table that applies it.
func sexRule(r demoRule) string {
	return fmt.Sprintf("codebridge sex table (mapping/edits/demographics.go) from the ICD-10-CM Tabular List title of %s-%s; MCE sex edit deactivated 2024-10-01", r.first, r.last)
}

func ages(r demoRule) string {
	if r.minAge == r.maxAge {
		return fmt.Sprint(r.minAge)
	}
	return fmt.Sprintf("%d-%d", r.minAge, r.maxAge)
}

// ageAt returns the age in completed years on day.
func ageAt(birth, day time.Time) int {
	age := day.Year() - birth.Year()
	if day.Month() < birth.Month() || day.Month() == birth.Month() && day.Day() < birth.Day() {
		age--
	}
	return age
}
