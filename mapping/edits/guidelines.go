package edits

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/codebridge/codebridge/mapping/codes"
)

// Guideline sequencing: the rules of the ICD-10-CM Official Guidelines for
// Coding and Reporting FY2026 (CMS and NCHS; ICD-10-CM-October-2025-
// Guidelines.pdf, effective October 1, 2025) about which diagnosis may be
// principal or first-listed, that need no file beyond the code itself.
// Each edit carries Rule (the section) and RuleText (the guideline's words,
// quoted from the PDF; guidelines_test.go checks each against
// testdata/icd10cm-guidelines-fy2026-excerpt.txt). Diagnoses[0] is the
// principal (inpatient) or first-listed (outpatient) diagnosis.
//
//   - GL_EXTERNAL_CAUSE_FIRST (error), section I.C.20: a code of chapter 20,
//     External Causes of Morbidity (V00-Y99), first-listed.
//   - GL_Z_FIRST_LISTED_ONLY (error), section I.C.21.c.15: a Z code of the
//     table "Z Codes That May Only be Principal/First-Listed Diagnosis"
//     (zFirstListedOnly, with its exceptions Z00.6 and Z52.9) in any other
//     place. The guideline excepts "multiple encounters on the same day and
//     the medical records for the encounters are combined"; a codebridge
//     chart is one encounter, so the exception does not arise here.
//     Z51.0 and Z51.1- are not flagged after another Z51.0 or Z51.1- code
//     first-listed: "code Z51.0 and codes from subcategory Z51.1 may be
//     assigned together, in which case one of these codes would be reported
//     as a secondary diagnosis" (I.C.2.e.2). Z04 (but not Z04.9, which the
//     observation table excepts) after the first is GL_Z04_SECONDARY
//     instead. On an inpatient institutional claim, where the MCE finds a
//     code unacceptable as principal (MCE_UNACCEPTABLE_PRINCIPAL), the
//     message does not advise listing it first.
//   - GL_Z04_SECONDARY (warning, person-only), section I.C.21.c.6: an
//     observation code of category Z04 (except Z04.9) after the first: "An
//     observation code may be assigned as a secondary diagnosis code when
//     the patient is being observed for a condition that is ruled out and
//     is unrelated to the principal/first-listed diagnosis"; whether it is
//     cannot be told from the codes, so a person decides.
//     Every other Z code "may be used as either a first-listed (principal
//     diagnosis code in the inpatient setting) or secondary code" (I.C.21.a;
//     the FY2026 guidelines have no other table) and is not flagged.
//   - GL_SEQUELA_FIRST (error), sections I.C.19.a and I.B.10: a chapter 19
//     code (S00-T88) with 7th character "S" (sequela) first-listed: the
//     specific type of sequela is sequenced first, the injury code after,
//     and both are needed. Also code O94, Sequelae of complication of
//     pregnancy, childbirth, and the puerperium, first-listed (I.C.15.p.3).
//     The exceptions of I.B.10 (a sequela code followed by a manifestation
//     code, or expanded to include the manifestation, as I69) are not
//     chapter 19 "S" codes nor O94, so they are never flagged; the other
//     sequela categories (B90-B94, E64, G09, I69, ...) are left alone.
//   - GL_UNDERDOSING_FIRST (error), section I.C.19.e.5.c: an underdosing
//     code (categories T36-T50, "fifth or sixth character 6": T36.0X6A,
//     T36.96XA, T50.916A) first-listed.
//   - GL_SEQUELA_NATURE_UNCLEAR (warning): a chapter 19 "S" code listed
//     after only injury (S00-T88) or external cause codes: whether the
//     nature of the sequela is coded before it cannot be told from the
//     codes, so a person decides; never a silent pass.
//
// For a date of service outside FY2026 (2025-10-01..2026-09-30) the FY2026
// rules, the newest encoded, are applied and the message says so.
const (
	GLExternalCauseFirst   = "GL_EXTERNAL_CAUSE_FIRST"
	GLZFirstListedOnly     = "GL_Z_FIRST_LISTED_ONLY"
	GLSequelaFirst         = "GL_SEQUELA_FIRST"
	GLSequelaNatureUnclear = "GL_SEQUELA_NATURE_UNCLEAR"
	GLZ04Secondary         = "GL_Z04_SECONDARY"
	GLUnderdosingFirst     = "GL_UNDERDOSING_FIRST"
)

// GuidelinesSource names the guidelines document and its version, as every
// guideline edit's Rule starts.
const GuidelinesSource = "ICD-10-CM Official Guidelines for Coding and Reporting FY2026"

// guidelinesFrom and guidelinesTo bound FY2026, the fiscal year the encoded
// guidelines are for.
var (
	guidelinesFrom = time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC)
	guidelinesTo   = time.Date(2026, 9, 30, 0, 0, 0, 0, time.UTC)
)

// The guideline sentences, quoted exactly from the FY2026 PDF (line breaks
// of the layout joined by one space).
const (
	// Section I.C.20, Chapter 20: External Causes of Morbidity (V00-Y99).
	textExternalCause = "The external causes of morbidity codes should never be sequenced as the first-listed or principal diagnosis."
	// Section I.C.21.c.15, Z Codes That May Only be Principal/First-Listed
	// Diagnosis.
	textZFirstListed = "The following Z codes/subcategories/categories may only be reported as the principal/first-listed diagnosis, except when there are multiple encounters on the same day and the medical records for the encounters are combined:"
	// Section I.C.2.e.2, Patient admission/encounter chiefly for
	// administration of antineoplastic chemotherapy, immunotherapy and
	// radiation therapy.
	textZ51Together = "If the reason for the encounter is more than one type of antineoplastic therapy, code Z51.0 and codes from subcategory Z51.1 may be assigned together, in which case one of these codes would be reported as a secondary diagnosis."
	// Section I.C.21.c.6, Observation.
	textObservationSecondary = "The observation codes are primarily to be used as a principal/first-listed diagnosis. An observation code may be assigned as a secondary diagnosis code when the patient is being observed for a condition that is ruled out and is unrelated to the principal/first-listed diagnosis."
	// Section I.C.19.e.5.c, Underdosing.
	textUnderdosing = "Codes for underdosing should never be assigned as principal or first-listed codes."
	// Section I.C.19.a, Application of 7th Characters in Chapter 19.
	textSequela19 = "When using 7th character “S”, it is necessary to use both the injury code that precipitated the sequela and the code for the sequela itself. The “S” is added only to the injury code, not the sequela code. The 7th character “S” identifies the injury responsible for the sequela. The specific type of sequela (e.g. scar) is sequenced first, followed by the injury code."
	// Section I.B.10, Sequela (Late Effects).
	textSequelaGeneral = "Coding of sequela generally requires two codes sequenced in the following order: the condition or nature of the sequela is sequenced first. The sequela code is sequenced second."
	// Section I.C.15.p.3, Sequencing of Code O94.
	textO94 = "This code, like all sequela codes, is to be sequenced following the code describing the sequelae of the complication."
)

// zRow is one row of the table in section I.C.21.c.15: a category,
// subcategory or code (Prefix, normalised, matching every code under it)
// with its title and the codes the table excepts, as the guideline prints
// them.
type zRow struct {
	Prefix  string   // normalised: "Z00", "Z511", "Z3181"
	Shown   string   // as printed: "Z00", "Z51.1-", "Z31.81"
	Title   string   // the title printed beside it
	Except  []string // normalised codes excepted by the row
	Printed string   // the row's exception as printed, "" if none
}

// zFirstListedOnly is the table "Z Codes That May Only be Principal/First-
// Listed Diagnosis", ICD-10-CM Official Guidelines for Coding and Reporting
// FY2026, section I.C.21.c.15 (pages 105-106), in the guideline's order.
// Every row cites that section.
var zFirstListedOnly = []zRow{
	{"Z00", "Z00", "Encounter for general examination without complaint, suspected or reported diagnosis", []string{"Z006"}, "Except: Z00.6"}, // I.C.21.c.15
	{"Z01", "Z01", "Encounter for other special examination without complaint, suspected or reported diagnosis", nil, ""},                     // I.C.21.c.15
	{"Z02", "Z02", "Encounter for administrative examination", nil, ""},                                                                       // I.C.21.c.15
	{"Z04", "Z04", "Encounter for examination and observation for other reasons", nil, ""},                                                    // I.C.21.c.15
	{"Z332", "Z33.2", "Encounter for elective termination of pregnancy", nil, ""},                                                             // I.C.21.c.15
	{"Z3181", "Z31.81", "Encounter for male factor infertility in female patient", nil, ""},                                                   // I.C.21.c.15
	{"Z3183", "Z31.83", "Encounter for assisted reproductive fertility procedure cycle", nil, ""},                                             // I.C.21.c.15
	{"Z3184", "Z31.84", "Encounter for fertility preservation procedure", nil, ""},                                                            // I.C.21.c.15
	{"Z34", "Z34", "Encounter for supervision of normal pregnancy", nil, ""},                                                                  // I.C.21.c.15
	{"Z39", "Z39", "Encounter for maternal postpartum care and examination", nil, ""},                                                         // I.C.21.c.15
	{"Z38", "Z38", "Liveborn infants according to place of birth and type of delivery", nil, ""},                                              // I.C.21.c.15
	{"Z40", "Z40", "Encounter for prophylactic surgery", nil, ""},                                                                             // I.C.21.c.15
	{"Z42", "Z42", "Encounter for plastic and reconstructive surgery following medical procedure or healed injury", nil, ""},                  // I.C.21.c.15
	{"Z510", "Z51.0", "Encounter for antineoplastic radiation therapy", nil, ""},                                                              // I.C.21.c.15
	{"Z511", "Z51.1-", "Encounter for antineoplastic chemotherapy and immunotherapy", nil, ""},                                                // I.C.21.c.15
	{"Z52", "Z52", "Donors of organs and tissues", []string{"Z529"}, "Except: Z52.9, Donor of unspecified organ or tissue"},                   // I.C.21.c.15
	{"Z761", "Z76.1", "Encounter for health supervision and care of foundling", nil, ""},                                                      // I.C.21.c.15
	{"Z762", "Z76.2", "Encounter for health supervision and care of other healthy infant and child", nil, ""},                                 // I.C.21.c.15
	{"Z9912", "Z99.12", "Encounter for respirator [ventilator] dependence during power failure", nil, ""},                                     // I.C.21.c.15
}

// FirstListedOnlyZ reports whether ICD-10-CM code (any form) may only be
// the principal or first-listed diagnosis (section I.C.21.c.15), and the
// table row as printed ("Z38 Liveborn infants ...").
func FirstListedOnlyZ(code string) (row string, ok bool) {
	code = codes.Normalize(codes.ICD10CM, code)
	for _, r := range zFirstListedOnly {
		if !strings.HasPrefix(code, r.Prefix) {
			continue
		}
		for _, x := range r.Except {
			if strings.HasPrefix(code, x) {
				return "", false
			}
		}
		return r.Shown + " " + r.Title, true
	}
	return "", false
}

// externalCause reports whether a normalised ICD-10-CM code is in chapter
// 20, External Causes of Morbidity (V00-Y99).
func externalCause(code string) bool {
	return code != "" && strings.ContainsRune("VWXY", rune(code[0]))
}

// injury reports whether a normalised code is in chapter 19, Injury,
// poisoning and certain other consequences of external causes (S00-T88).
func injury(code string) bool {
	return code != "" && (code[0] == 'S' || code[0] == 'T')
}

// injurySequela reports whether a normalised code is a chapter 19 code
// with 7th character "S", sequela (section I.C.19.a: every chapter 19
// 7th-character set uses S for sequela).
func injurySequela(code string) bool {
	return injury(code) && len(code) == 7 && code[6] == 'S'
}

// antineoplastic reports whether a normalised code is Z51.0 or in
// subcategory Z51.1, which may be assigned together (section I.C.2.e.2).
func antineoplastic(code string) bool {
	return strings.HasPrefix(code, "Z510") || strings.HasPrefix(code, "Z511")
}

// observationZ04 reports whether a normalised code is an observation code
// of category Z04 that section I.C.21.c.6 lets be secondary: the
// observation table lists Z04 "Except: Z04.9".
func observationZ04(code string) bool {
	return strings.HasPrefix(code, "Z04") && !strings.HasPrefix(code, "Z049")
}

// underdosing reports whether a normalised code is an underdosing code:
// categories T36-T50 with "fifth or sixth character “6”" (section
// I.C.19.e.5.c), the 6th character where the 5th is the drug (T36.0X6A,
// T50.916A), the 5th where the 6th is the placeholder X (T36.96XA).
func underdosing(code string) bool {
	if len(code) != 7 || code[0] != 'T' || code[1] < '3' || code[1] > '5' {
		return false
	}
	cat := code[1:3]
	if cat < "36" || cat > "50" {
		return false
	}
	return code[5] == '6' || (code[4] == '6' && code[5] == 'X')
}

// guidelineRule is the Rule of a guideline edit for a section.
func guidelineRule(section string) string { return GuidelinesSource + ", section " + section }

// guidelines adds the guideline sequencing edits (see above) on the
// chart's diagnoses, in order.
func (k *checker) guidelines() {
	dx := make([]string, len(k.c.Diagnoses))
	for i, d := range k.c.Diagnoses {
		dx[i] = codes.Normalize(codes.ICD10CM, d.Code)
	}
	if len(dx) == 0 {
		return
	}
	var fy string
	if d := k.c.codeSetDate(); !d.IsZero() && (d.Before(guidelinesFrom) || d.After(guidelinesTo)) {
		fy = "; the FY2026 guidelines, the newest codebridge encodes, were applied to a date of service outside FY2026 (" +
			d.Format(time.DateOnly) + ")"
	}
	// rule sets the Rule and RuleText of the edit just added and notes a
	// date of service outside FY2026.
	rule := func(section, text string) {
		k.citeLast(guidelineRule(section), text)
		k.edits[len(k.edits)-1].Message += fy
	}
	target := func(i int) string { return fmt.Sprintf("diagnoses[%d]", i) }
	show := func(c string) string { return codes.Display(codes.ICD10CM, c) }

	first := dx[0]
	switch {
	case externalCause(first):
		k.add(GLExternalCauseFirst, Error, target(0),
			"ICD-10-CM %s is an external cause code (chapter 20, V00-Y99) and is first-listed: external cause codes are never "+
				"the principal or first-listed diagnosis; list the condition it explains first (Official Guidelines I.C.20)", show(first))
		rule("I.C.20", textExternalCause)
	case injurySequela(first):
		if n := slices.IndexFunc(dx[1:], natureCandidate); n >= 0 {
			nature := dx[1+n]
			k.add(GLSequelaFirst, Error, target(0),
				"ICD-10-CM %s is a sequela code (7th character S) and is first-listed: the nature of the sequela is sequenced "+
					"first and the injury code with S after it; if %s is the residual condition, list it before %s "+
					"(Official Guidelines I.C.19.a, I.B.10)", show(first), show(nature), show(first))
			rule("I.C.19.a", textSequela19)
		} else {
			k.add(GLSequelaFirst, Error, target(0),
				"ICD-10-CM %s is a sequela code (7th character S) and is first-listed with no code for the residual condition: "+
					"code the nature of the sequela (e.g. the scar) first and the injury code with S after it "+
					"(Official Guidelines I.C.19.a, I.B.10)", show(first))
			rule("I.C.19.a", textSequela19)
		}
	case underdosing(first):
		k.add(GLUnderdosingFirst, Error, target(0),
			"ICD-10-CM %s is an underdosing code (T36-T50, character 6) and is first-listed: underdosing codes are never "+
				"the principal or first-listed diagnosis; list the condition first, or the relapse or exacerbation the reduced dose caused "+
				"(Official Guidelines I.C.19.e.5.c)", show(first))
		rule("I.C.19.e.5.c", textUnderdosing)
	case strings.HasPrefix(first, "O94"):
		k.add(GLSequelaFirst, Error, target(0),
			"ICD-10-CM %s (sequelae of complication of pregnancy, childbirth and the puerperium) is first-listed: it follows "+
				"the code describing the sequelae of the complication (Official Guidelines I.C.15.p.3, I.B.10)", show(first))
		rule("I.C.15.p.3", textO94)
	}

	for i := 1; i < len(dx); i++ {
		c := dx[i]
		row, ok := FirstListedOnlyZ(c)
		switch {
		case !ok:
		case antineoplastic(c) && antineoplastic(first):
			// I.C.2.e.2: Z51.0 and Z51.1- may be assigned together, one of
			// them secondary.
		case observationZ04(c):
			k.add(GLZ04Secondary, Warning, target(i),
				"ICD-10-CM %s is an observation code (Z04) listed at diagnoses[%d]: as a secondary diagnosis it is only for a condition "+
					"observed and ruled out that is unrelated to the principal/first-listed diagnosis; a person confirms that, or lists it first "+
					"if the observation is the reason for the encounter (Official Guidelines I.C.21.c.6, I.C.21.c.15)", show(c), i)
			rule("I.C.21.c.6", textObservationSecondary)
		case k.c.InpatientClaim() && k.mceUnacceptablePrincipal(c):
			k.add(GLZFirstListedOnly, Error, target(i),
				"ICD-10-CM %s may only be the principal/first-listed diagnosis (table row %q; Official Guidelines I.C.21.c.15) and is listed at "+
					"diagnoses[%d]: as a secondary diagnosis it is not reported, and the MCE does not accept it as the principal diagnosis "+
					"of an inpatient stay; remove it", show(c), row, i)
			rule("I.C.21.c.15", textZFirstListed+" "+row)
		default:
			also := ""
			if antineoplastic(c) {
				also = "; Z51.0 and Z51.1- may follow one another when the encounter is for more than one type of antineoplastic therapy (I.C.2.e.2)"
			}
			k.add(GLZFirstListedOnly, Error, target(i),
				"ICD-10-CM %s may only be the principal or first-listed diagnosis (table row %q) and is listed at diagnoses[%d]: "+
					"list it first, or remove it if it is not the reason for the encounter (Official Guidelines I.C.21.c.15%s)",
				show(c), row, i, also)
			rule("I.C.21.c.15", textZFirstListed+" "+row)
		}
		if injurySequela(c) && !injurySequela(first) && !slices.ContainsFunc(dx[:i], natureCandidate) {
			k.add(GLSequelaNatureUnclear, Warning, target(i),
				"ICD-10-CM %s is a sequela code (7th character S) and only injury or external cause codes are listed before it: "+
					"check that the condition or nature of the sequela is coded and sequenced before it (Official Guidelines I.B.10, I.C.19.a)",
				show(c))
			rule("I.B.10", textSequelaGeneral)
		}
	}
}

// mceUnacceptablePrincipal reports whether the MCE release for the chart's
// code-set date lists a normalised code as an unacceptable principal
// diagnosis (MCE edit 9). Only the wording of GL_Z_FIRST_LISTED_ONLY
// depends on it; a missing release is the MCE edits' own note (mce.go), so
// an error here just keeps the general wording.
func (k *checker) mceUnacceptablePrincipal(code string) bool {
	f, err := k.lk.MCE(k.ctx, code, k.c.codeSetDate())
	if err != nil {
		return false
	}
	_, on := f.On(codes.MCEUnacceptablePrincipal)
	return on
}

// natureCandidate reports whether a normalised code could be the nature of
// a sequela: a code outside chapters 19 and 20.
func natureCandidate(code string) bool { return code != "" && !injury(code) && !externalCause(code) }
