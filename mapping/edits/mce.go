package edits

import (
	"fmt"
	"strings"

	"github.com/codebridge/codebridge/mapping/codes"
)

// The Medicare Code Editor (MCE) edits: the diagnosis lists of the CMS
// "Definitions of Medicare Code Edits" (codes.MCE; v43.1 is bundled), in
// the release applied on the chart's code-set date (the discharge date of
// an inpatient institutional stay, else the date of service: the MCE, like
// the MS-DRG grouper it runs with, goes by discharge). When no loaded MCE
// release covers that date the nearest one is applied and every MCE edit
// says so (codes.PickMCE; "MCE v43.1 (valid to 2026-09-30) applied: no
// later MCE release is loaded").
//
// The MCE is the editor of Medicare inpatient claims, but its lists are
// facts of the classification that every pre-bill scrubber applies, so
// these edits run on every chart, whatever the payer (Chart.Medicare is
// not read) and whatever the claim form. The principal diagnosis of an
// inpatient institutional claim (the UHDDS principal diagnosis, which the
// MCE edits) and the first-listed diagnosis of an outpatient or
// professional claim are both Chart.Diagnoses[0]; edit 6 applies to
// either, edits 8 and 9 as below. A physician's professional claim for an
// inpatient stay reports a first-listed diagnosis (Section IV).
//
//   - MCE_AGE_CONFLICT (edit 4): the patient's age in completed years on
//     the code-set date outside the range of a list the code is on: an
//     error for the perinatal/newborn (age 0) and pediatric (0-17) lists,
//     a warning for the maternity (9-64) and adult (15-124) lists, whose
//     codes a person may have reason to report (a maternity code at 65, an
//     adult code at 14). Not checked without a birth date.
//   - MCE_MANIFESTATION_AS_PRINCIPAL (edit 6): a manifestation code
//     principal or first-listed: error.
//   - MCE_UNACCEPTABLE_PRINCIPAL (edit 9): an unacceptable principal
//     diagnosis as the principal diagnosis of an inpatient institutional
//     claim: error; a code CMS accepts only with a secondary diagnosis
//     (Z51.89), when it is the only diagnosis of such a claim: error. As
//     the first-listed diagnosis of
//     an outpatient or professional claim it is a warning, and no edit for
//     a Z code or O09: the list is written for the UHDDS principal
//     diagnosis, which "does not apply to hospital-based outpatient
//     services and provider-based office visits" (Official Guidelines
//     FY2026, Section IV), and the guidelines make many of its codes the
//     first-listed one there (Z00.00 for a routine examination, IV.P; O09
//     for a high-risk prenatal visit, I.C.15.b.2). Issue #19 asked for an
//     error on the outpatient first-listed diagnosis too; that would
//     refuse every routine physical and high-risk prenatal visit.
//   - MCE_QUESTIONABLE_ADMISSION (edit 8): a questionable admission code
//     as the principal diagnosis of an inpatient institutional claim:
//     warning.
//
// Sex (edit 5): CMS deactivated the MCE sex-conflict edit as of 10/01/2024,
// the start of FY2025 (MCE v42); the v43.1 text file's heading reads "5.
// Sex conflict (deactivated as of 10/01/2024)" and lists no codes, and the
// last version with sex lists is v41.1; codebridge's own SEX_CONFLICT (demographics.go)
// stays a warning. The code's own validity (edit 1), external causes as
// principal (edit 2) and duplicates (edit 3) are other edits of this
// package (DX_*, the guideline sequencing edits, DX_DUPLICATE).
const (
	MCEAgeConflict              = "MCE_AGE_CONFLICT"
	MCEManifestationAsPrincipal = "MCE_MANIFESTATION_AS_PRINCIPAL"
	MCEUnacceptablePrincipal    = "MCE_UNACCEPTABLE_PRINCIPAL"
	MCEQuestionableAdmission    = "MCE_QUESTIONABLE_ADMISSION"
)

// The rule texts are the words of the CMS "Definitions of Medicare Code
// Edits" (chapter 1, the edit's section). The CMS zip could not be
// obtained here, so they were checked against what public parsers of the
// v41.1 and v43.1 text files quote of it: sections 4 ("clinically and
// virtually impossible in a patient of the stated age"), 6 ("describe the
// manifestation of an underlying disease, not the disease itself") and 9
// ("a circumstance which influences an individual's health status but not
// a current illness or injury"; "considered \"acceptable\" when a
// secondary diagnosis is also coded"). The sentence of section 8 is the
// wording CMS has used for the edit since the ICD-9 MCE, not checked
// against the v43.1 file.
const (
	mceAgeText = "The Medicare Code Editor detects inconsistencies between a patient's age and any diagnosis on the patient's record. " +
		"The diagnosis is clinically and virtually impossible in a patient of the stated age; therefore, either the diagnosis or the age is presumed to be incorrect."
	mceManifestationText = "Manifestation codes describe the manifestation of an underlying disease, not the disease itself, and therefore should not be used as a principal diagnosis. " +
		"\"In diseases classified elsewhere\" codes are never permitted to be used as first listed or principal diagnosis codes (ICD-10-CM Official Guidelines FY2026, I.A.13)."
	mceQuestionableText = "There are some diagnoses which are not usually sufficient justification for admission to an acute care hospital."
	mceUnacceptableText = "There are selected codes that describe a circumstance which influences an individual's health status but not a current illness or injury, " +
		"or codes that are not specific manifestations but may be due to an underlying cause. These codes are considered unacceptable as a principal diagnosis."
	mceAloneText = mceUnacceptableText + " In a few cases, codes are considered \"acceptable\" when a secondary diagnosis is also coded on the record."
)

// mceAge describes the age lists: the words of the list's heading, the
// edit's subsection, the range stated in the category definitions, and
// whether a conflict is an error.
var mceAge = map[codes.MCEList]struct {
	what, section string
	err           bool
}{
	codes.MCEPerinatal: {"perinatal/newborn diagnoses", "4.A", true},
	codes.MCEPediatric: {"pediatric diagnoses", "4.B", true},
	codes.MCEMaternity: {"maternity diagnoses", "4.C", false},
	codes.MCEAdult:     {"adult diagnoses", "4.D", false},
}

// mceAnswer is one code's MCE lookup in a Check run.
type mceAnswer struct {
	f  codes.MCEFacts
	ok bool
}

// mceFacts looks code up in the MCE release applied on the chart's
// code-set date, once per Check run. ok is false when no MCE release is
// loaded (reported once as NO_RELEASE_FOR_DOS with Covers mce, on target)
// or the lookup failed.
func (k *checker) mceFacts(code, target string) (codes.MCEFacts, bool) {
	if a, seen := k.mceSeen[code]; seen {
		return a.f, a.ok
	}
	f, err := k.lk.MCE(k.ctx, code, k.c.codeSetDate())
	a := mceAnswer{f: f}
	switch k.classify(err) {
	case found:
		a.ok = true
	case noRelease:
		k.noRelease(codes.MCE, k.c.codeSetDate(), target)
	}
	if k.mceSeen == nil {
		k.mceSeen = map[string]mceAnswer{}
	}
	k.mceSeen[code] = a
	return a.f, a.ok
}

// mceAgeListed reports whether code is on an MCE age list of the release
// applied: its age is then checked by MCE_AGE_CONFLICT, and the
// demographics table's AGE_CONFLICT (which only approximates the MCE
// lists) is not raised for it.
func (k *checker) mceAgeListed(code, target string) bool {
	f, ok := k.mceFacts(code, target)
	if !ok {
		return false
	}
	for _, l := range f.Lists {
		if l.List.IsAge() {
			return true
		}
	}
	return false
}

// mce runs the MCE edits on the chart's diagnoses.
func (k *checker) mce() {
	distinct := map[string]bool{}
	for _, d := range k.c.Diagnoses {
		if c := codes.Normalize(codes.ICD10CM, d.Code); c != "" {
			distinct[c] = true
		}
	}
	on := k.c.codeSetDate()
	seen := map[string]bool{}
	for i, d := range k.c.Diagnoses {
		code := codes.Normalize(codes.ICD10CM, d.Code)
		if code == "" || !codes.ICD10CMFormat(code) || seen[code] {
			continue // empty, not ICD-10-CM, or a repeat (DX_DUPLICATE)
		}
		seen[code] = true
		target := fmt.Sprintf("diagnoses[%d]", i)
		f, ok := k.mceFacts(code, target)
		if !ok {
			return
		}
		shown := codes.Display(codes.ICD10CM, code)
		for _, l := range f.Lists {
			a, isAge := mceAge[l.List]
			if !isAge || k.c.BirthDate.IsZero() {
				continue
			}
			if age := ageAt(k.c.BirthDate, on); age >= l.MinAge && age <= l.MaxAge {
				continue
			}
			rule := fmt.Sprintf("%s: Age conflict (%s, age %s)", mceSource(f), a.what, mceAgeRange(l))
			msg := fmt.Sprintf("ICD-10-CM %s is on the MCE list of %s (age %s); the patient's age on %s is outside it",
				shown, a.what, mceAgeRange(l), day(on))
			if a.err {
				k.add(MCEAgeConflict, Error, target, "%s%s", msg, mceSuffix(f))
			} else {
				k.add(MCEAgeConflict, Warning, target, "%s: a person confirms the code or the birth date%s", msg, mceSuffix(f))
			}
			k.citeLast(rule+" §"+a.section, mceAgeText)
		}
		if i > 0 {
			continue
		}
		first := "first-listed"
		if k.c.InpatientClaim() {
			first = "principal"
		}
		if _, on := f.On(codes.MCEManifestation); on {
			k.add(MCEManifestationAsPrincipal, Error, target,
				"ICD-10-CM %s is a manifestation code and cannot be the %s diagnosis: sequence the underlying condition first%s",
				shown, first, mceSuffix(f))
			k.citeLast(mceSource(f)+": Manifestation code as principal diagnosis §6", mceManifestationText)
		}
		_, unacceptable := f.On(codes.MCEUnacceptablePrincipal)
		_, alone := f.On(codes.MCEUnacceptableAlone)
		alone = alone && len(distinct) == 1
		switch {
		case !unacceptable && !alone:
		case k.c.InpatientClaim() && unacceptable:
			k.add(MCEUnacceptablePrincipal, Error, target,
				"ICD-10-CM %s is unacceptable as the principal diagnosis of an inpatient stay: it does not describe a current illness or injury that occasioned the admission%s",
				shown, mceSuffix(f))
			k.citeLast(mceSource(f)+": Unacceptable principal diagnosis §9", mceUnacceptableText)
		case k.c.InpatientClaim():
			k.add(MCEUnacceptablePrincipal, Error, target,
				"ICD-10-CM %s is acceptable as the principal diagnosis only with a secondary diagnosis, and none is coded%s", shown, mceSuffix(f))
			k.citeLast(mceSource(f)+": Unacceptable principal diagnosis §9 (acceptable with a secondary diagnosis)", mceAloneText)
		case mceOutpatientFirstListed(code):
			// Not an MCE finding outside an inpatient stay (see mce above).
		default:
			rule := mceSource(f) + ": Unacceptable principal diagnosis §9; ICD-10-CM Official Guidelines FY2026 Section IV (outpatient)"
			text := mceUnacceptableText + " " + mceOutpatientText
			why := "the list is written for the principal diagnosis of an inpatient stay"
			if z, ok := mceZSecondaryRule(code); ok {
				// A Z code the guidelines report as secondary (mceZSecondary).
				rule += ", " + z.section
				text += " " + z.text + " (ICD-10-CM Official Guidelines FY2026, " + z.section + ")"
				why = "the Official Guidelines report it as a secondary code, not the reason for an encounter (" + z.section + ")"
			}
			k.add(MCEUnacceptablePrincipal, Warning, target,
				"ICD-10-CM %s is on the MCE list of unacceptable principal diagnoses; %s, "+
					"so as the first-listed diagnosis of this outpatient or professional claim a person confirms it is the reason for the visit%s",
				shown, why, mceSuffix(f))
			k.citeLast(rule, text)
		}
		if _, on := f.On(codes.MCEQuestionableAdmission); on && k.c.InpatientClaim() {
			k.add(MCEQuestionableAdmission, Warning, target,
				"ICD-10-CM %s as the principal diagnosis is a questionable admission: it is not usually sufficient justification for an inpatient stay; "+
					"a person confirms the principal diagnosis%s", shown, mceSuffix(f))
			k.citeLast(mceSource(f)+": Questionable admission §8", mceQuestionableText)
		}
	}
}

// mceOutpatientText is the Official Guidelines' own sentence on why the
// inpatient principal-diagnosis rules do not carry over to outpatient
// claims (FY2026, Section IV introduction).
const mceOutpatientText = "The Uniform Hospital Discharge Data Set (UHDDS) definition of principal diagnosis does not apply to " +
	"hospital-based outpatient services and provider-based office visits (ICD-10-CM Official Guidelines FY2026, Section IV)."

// mceOutpatientFirstListed reports whether code is on the MCE unacceptable
// list yet may be first-listed by the Official Guidelines (FY2026) in
// outpatient settings, so that the MCE warning is not raised for it:
//
//   - Chapter 21 Z codes, which "may be used as either a first-listed
//     (principal diagnosis code in the inpatient setting) or secondary code,
//     depending on the circumstances of the encounter" (I.C.21.a):
//     encounters for examinations, screening, aftercare, counseling and the
//     like (Section IV.P and IV.Q, I.C.21.c.5-13), and the table "Z Codes
//     That May Only be Principal/First-Listed Diagnosis" of I.C.21.c.15,
//     which the guideline sequencing edits apply (GL_Z_FIRST_LISTED_ONLY).
//     Not the Z codes the guidelines make secondary or merely informative
//     (mceZSecondary): those keep the warning a person clears.
//   - Category O09: "For routine prenatal outpatient visits for patients
//     with high-risk pregnancies, a code from category O09, Supervision of
//     high-risk pregnancy, should be used as the first-listed diagnosis"
//     (I.C.15.b.2).
func mceOutpatientFirstListed(code string) bool {
	if strings.HasPrefix(code, "O09") {
		return true
	}
	_, secondary := mceZSecondaryRule(code)
	return strings.HasPrefix(code, "Z") && !secondary
}

// mceZRule is a group of Z codes the FY2026 Official Guidelines report as
// secondary (or only as information about the encounter), never as its
// reason: the section and its words, quoted from the PDF.
type mceZRule struct {
	prefixes []string // normalized codes (no dot), by prefix
	except   []string // normalized codes (no dot), by prefix
	section  string
	text     string
}

// mceZSecondary are the Z codes on the MCE unacceptable-principal list that
// the guidelines do not let be first-listed: first-listed on an outpatient
// claim they keep MCE_UNACCEPTABLE_PRINCIPAL (a warning only a person
// clears). The first rule naming a code is cited. The guidelines' own
// exceptions are kept: Z88.9 and Z92.0 are "nonspecific" codes (I.C.21.c.14)
// an outpatient record may use when nothing more precise is documented, and
// Z99.12 is first-listed only (I.C.21.c.15); Z99 is on no status table.
var mceZSecondary = []mceZRule{
	{
		// BMI (Z68), social determinants of health (Z55-Z65), underimmunization status (Z28.3).
		prefixes: []string{"Z283", "Z55", "Z56", "Z57", "Z58", "Z59", "Z60", "Z61", "Z62", "Z63", "Z64", "Z65", "Z68"},
		section:  "I.B.14",
		text:     "The BMI, coma scale, NIHSS, blood alcohol level codes, codes for social determinants of health and underimmunization status should only be reported as secondary diagnoses.",
	},
	{
		prefixes: []string{"Z37"},
		section:  "I.C.21.c.11",
		text:     "The outcome of delivery, category Z37, should be included on all maternal delivery records. It is always a secondary code.",
	},
	{
		prefixes: []string{"Z3A"},
		section:  "I.C.21.c.11",
		text:     "Codes in category Z3A, Weeks of gestation, may be assigned to provide additional information about the pregnancy.",
	},
	{
		prefixes: []string{"Z331"},
		section:  "I.C.21.c.3",
		text:     "Z33.1 Pregnant state, incidental This code is a secondary code only for use when the pregnancy is in no way complicating the reason for visit.",
	},
	{
		// The status Z codes/categories of I.C.21.c.3.
		prefixes: []string{"Z14", "Z15", "Z16", "Z17", "Z18", "Z19", "Z21", "Z22", "Z66", "Z67", "Z7401", "Z7682", "Z78", "Z79",
			"Z88", "Z89", "Z90", "Z910", "Z9282", "Z93", "Z94", "Z95", "Z96", "Z97", "Z98"},
		except:  []string{"Z889"},
		section: "I.C.21.c.3",
		text:    "A status code is informative, because the status may affect the course of treatment and its outcome.",
	},
	{
		// The history Z code categories of I.C.21.c.4.
		prefixes: []string{"Z80", "Z81", "Z82", "Z83", "Z84", "Z85", "Z86", "Z87", "Z914", "Z915", "Z9181", "Z9182", "Z9185", "Z92"},
		except:   []string{"Z920"},
		section:  "I.C.21.c.4",
		text:     "The reason for the encounter (for example, screening or counseling) should be sequenced first and the appropriate personal and/or family history code(s) should be assigned as additional diagnos(es).",
	},
}

// mceZSecondaryRule returns the rule of mceZSecondary that names code
// (normalized), if any.
func mceZSecondaryRule(code string) (mceZRule, bool) {
	has := func(ps []string) bool {
		for _, p := range ps {
			if strings.HasPrefix(code, p) {
				return true
			}
		}
		return false
	}
	for _, r := range mceZSecondary {
		if has(r.prefixes) && !has(r.except) {
			return r, true
		}
	}
	return mceZRule{}, false
}

// citeLast sets the rule source and text of the edit added last.
func (k *checker) citeLast(source, text string) {
	k.edits[len(k.edits)-1].Rule = source
	k.edits[len(k.edits)-1].RuleText = text
}

// mceSource names the MCE release applied: "Medicare Code Editor v43.1".
func mceSource(f codes.MCEFacts) string { return "Medicare Code Editor " + f.Release.Version }

// mceSuffix is "" or "; " and the note that the release was applied
// outside its window.
func mceSuffix(f codes.MCEFacts) string {
	if f.Note == "" {
		return " (" + mceSource(f) + ")"
	}
	return " (" + mceSource(f) + "; " + f.Note + ")"
}

func mceAgeRange(l codes.MCEListing) string {
	if l.MinAge == l.MaxAge {
		return fmt.Sprint(l.MinAge)
	}
	return fmt.Sprintf("%d-%d", l.MinAge, l.MaxAge)
}
