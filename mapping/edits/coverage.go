package edits

import (
	"slices"

	"github.com/codebridge/codebridge/mapping/codes"
)

// Coverage notes are the edits that say a rule set was not loaded, not
// that the chart is at risk: the code set or table they name (Edit.Covers)
// had no release for the date of service, so its rules were not checked.
// They are warnings for a coder; the straight-through policy
// (workitem.StraightThroughPolicy) reads Covers to decide whether the
// missing rules could have fired on the chart. Every other warning is a
// chart warning (sex, age, telehealth modifier, ...).
//
// The coverage-note codes, in one place:
//
//   - CPT_UNVERIFIED (Covers "cpt"): no CPT release is loaded; the code was
//     checked by format only (CPT content is AMA-licensed and never shipped).
//   - NO_RELEASE_FOR_DOS (Covers the system: icd10cm, icd10pcs, hcpcs,
//     hcpcsmod, mue, ptp, poaexempt): no release of that code set or NCCI
//     table is in force on the date of service.
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
	MCEAgeConflict, MCEQuestionableAdmission, MCEUnacceptablePrincipal, // mce.go (warnings: maternity and adult ages; an outpatient first-listed diagnosis)
}

// WarningCodes returns the chart-warning edit codes, sorted: the codes a
// straight-through allowlist may name by themselves.
func WarningCodes() []string {
	out := slices.Clone(chartWarnings)
	slices.Sort(out)
	return out
}

// AllowableCoverageNotes returns the coverage notes a straight-through
// allowlist may name, with the NCCI table they cover: no PTP table
// (NO_RELEASE_FOR_DOS:ptp) and no MUE table (NO_RELEASE_FOR_DOS:mue). A
// missing code-set release (ICD-10-CM, ICD-10-PCS, HCPCS) can never be
// allowed away (workitem.StraightThroughPolicy, rule 5), and CPT_UNVERIFIED
// never stops a chart.
func AllowableCoverageNotes() []string {
	return []string{
		NoReleaseForDOS + ":" + string(codes.MUETable),
		NoReleaseForDOS + ":" + string(codes.PTPTable),
	}
}
