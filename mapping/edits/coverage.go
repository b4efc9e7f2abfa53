package edits

import (
	"slices"

	"github.com/codebridge/codebridge/mapping/codes"
)

// Coverage notes are the edits that say a rule set was not loaded, not
// that the chart is at risk: the code set or table they name (Edit.Covers)
// had no release for the date of service, so its rules were not checked.
// They are warnings for a coder, except a missing ICD-10-CM or ICD-10-PCS
// release, which is an error (blocksClaim in engine.go); the straight-through policy
// (workitem.StraightThroughPolicy) reads Covers to decide whether the
// missing rules could have fired on the chart. Every other warning is a
// chart warning (sex, age, telehealth modifier, ...).
//
// The coverage-note codes, in one place:
//
//   - CPT_UNVERIFIED (Covers "cpt"): no CPT release is loaded; the code was
//     checked by format only (CPT content is AMA-licensed and never shipped).
//   - NO_RELEASE_FOR_DOS (Covers the system: icd10cm, icd10pcs, hcpcs,
//     hcpcsmod, mue, ptp, poaexempt, icd10cm-tabular): no release of that
//     code set, NCCI table or the ICD-10-CM Tabular List is in force on
//     the date of service. For icd10cm-tabular (never bundled: an operator
//     loads the CMS file) it says the Tabular List instructions (Excludes1,
//     code first, use additional code, 7th characters) were not checked.
var coverageNotes = map[string]bool{
	CPTUnverified:   true,
	NoReleaseForDOS: true,
}

// IsCoverageNote reports whether an edit code is a coverage note: a rule
// set not loaded, rather than a finding on the chart.
func IsCoverageNote(code string) bool { return coverageNotes[code] }

// note adds a coverage note for system (see IsCoverageNote).
func (k *checker) note(code string, system codes.System, target, format string, args ...any) {
	k.add(code, Warning, target, format, args...)
	k.edits[len(k.edits)-1].Covers = system
}

// chartWarnings are the edit codes the engine raises as chart warnings
// (severity warning, not coverage notes): the codes
// CODEBRIDGE_AUTOCODE_ALLOW_WARNINGS may name. Keep it in step with the
// k.add(..., Warning, ...) calls (TestWarningCodes checks it).
var chartWarnings = []string{
	AgeConflict, SexConflict, // demographics.go
	NoDischargeDate,              // dates.go
	POAExemptIgnored, POAMissing, // diagnoses.go (POA_MISSING: a warning when no POA-exempt list is loaded)
	MUEExceededClinical, MUEZero, NCCIPTPBypassed, // ncci.go
	TelehealthModifier, TelehealthModifierConflict, // telehealth.go
}

// personWarnings are chart warnings that only a person may clear: the
// classification's own rules where the codes cannot tell whether the rule
// is kept (guidelines.go), and the Medicare Code Editor's warnings (mce.go:
// a maternity or adult code outside its ages, a questionable admission, an
// unacceptable first-listed diagnosis of an outpatient claim), which the
// issue that asked for them (#19) says "need a person". They are not among WarningCodes, so no
// straight-through allowlist can name them (config refuses them) and the
// auto-coder never bills a chart that has one.
var personWarnings = []string{
	GLSequelaNatureUnclear, GLZ04Secondary, // guidelines.go
	MCEAgeConflict, MCEQuestionableAdmission, MCEUnacceptablePrincipal, // mce.go
	TabularEtiologyUnlisted, TabularUseAdditional, // tabular_sequence.go: "a person confirms"
	TabularCodeFirst, // tabular_sequence.go: a warning when the code the note names is an underdosing code
}

// WarningCodes returns the chart-warning edit codes, sorted: the codes a
// straight-through allowlist may name by themselves. The warnings only a
// person may clear (PersonWarningCodes) are not among them.
func WarningCodes() []string {
	out := slices.Clone(chartWarnings)
	slices.Sort(out)
	return out
}

// PersonWarningCodes returns, sorted, the chart warnings that no
// straight-through allowlist may name: a person reviews each.
func PersonWarningCodes() []string {
	out := slices.Clone(personWarnings)
	slices.Sort(out)
	return out
}

// AllowableCoverageNotes returns the coverage notes a straight-through
// allowlist may name, with the table they cover: no PTP table
// (NO_RELEASE_FOR_DOS:ptp), no MUE table (NO_RELEASE_FOR_DOS:mue), no
// ICD-10-CM Tabular List (NO_RELEASE_FOR_DOS:icd10cm-tabular: a site that
// bills straight through without the Tabular List instructions says so).
// A missing code-set release (ICD-10-CM, ICD-10-PCS, HCPCS) can never be
// allowed away (workitem.StraightThroughPolicy, rule 5), and CPT_UNVERIFIED
// never stops a chart.
func AllowableCoverageNotes() []string {
	return []string{
		NoReleaseForDOS + ":" + string(codes.MUETable),
		NoReleaseForDOS + ":" + string(codes.PTPTable),
		NoReleaseForDOS + ":" + string(codes.ICD10CMTabular),
	}
}
