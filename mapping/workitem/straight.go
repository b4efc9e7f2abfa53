package workitem

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping/codes"
)

// The straight-through policy: a chart is coded and billed without a person
// only when every rule below holds; otherwise it stays in the queue for a
// coder with one reason per rule broken (AutoDecision). The rules, each
// with its source:
//
//  1. The suggested codes are complete (mapping.AutoAssignment): not an
//     inpatient stay (POA indicators are not in EHR codings), every
//     encounter diagnosis has an ICD-10-CM code and every procedure and
//     billable charge a CPT or HCPCS code.
//  2. The first-listed diagnosis is unambiguous (ICD-10-CM Official
//     Guidelines for Coding and Reporting FY2026, Section IV.G: the
//     first-listed code is the reason chiefly responsible for the visit):
//     the Condition with Encounter.diagnosis rank 1, or the single encounter
//     diagnosis. A rank shared by two Conditions (RANK_TIE), several
//     encounter diagnoses without rank 1 (FIRST_LISTED_UNRANKED), no
//     encounter diagnosis (NO_ENCOUNTER_DIAGNOSIS), an Encounter.diagnosis
//     naming a Condition that is not this encounter's (DX_OTHER_ENCOUNTER)
//     or naming no Condition at all (DX_UNRESOLVED_REFERENCE: display text,
//     a contained resource, a Procedure) leave it to a person. The order never comes from ids or arrival:
//     ranked diagnoses by rank, the rest by code.
//  3. Every encounter diagnosis is confirmed and active (Section IV.H:
//     "probable", "suspected", "questionable", "rule out", "working
//     diagnosis" are not coded as if certain; Section IV.J: conditions that
//     no longer exist are not coded). verificationStatus confirmed, or
//     absent on an encounter diagnosis of a finished encounter
//     (DX_NOT_CONFIRMED otherwise: provisional, differential, unconfirmed,
//     refuted, entered-in-error); clinicalStatus active, recurrence, relapse
//     or absent (DX_NOT_ACTIVE otherwise: inactive, remission, resolved).
//     Only encounter diagnoses are coded: a problem-list entry, even
//     confirmed and active, does not show that it required or affected
//     patient care at this visit (Section IV.J); problem-list entries stay
//     on the chart as context for a coder and never stop the chart.
//     An encounter diagnosis with more than one distinct ICD-10-CM coding
//     (DX_MULTIPLE_CODINGS) leaves the chart to a coder: which of them
//     applies is a coding decision (Sections I.B.5 and IV.D: a sign or
//     symptom integral to a definitive diagnosis is not coded).
//  4. No error edit; no chart warning unless its code is on the allowlist
//     (CODEBRIDGE_AUTOCODE_ALLOW_WARNINGS). Each such reason carries the
//     edit's own code (SEX_CONFLICT, DX_HEADER, ...). The allowlist never
//     lets an error through.
//  5. Coverage notes (edits.IsCoverageNote: a rule set not loaded) stop the
//     chart only when the missing rules could have fired on it: no CPT
//     release (CPT_UNVERIFIED, raised only on codes of valid CPT format)
//     never; no NCCI PTP table only with two or more lines; no MUE table only
//     when a code is billed above 1 unit on a date of service (MUE values
//     are at least 1 where they allow the service at all). No release of a
//     code set the claim uses (NO_RELEASE_FOR_DOS for icd10cm, hcpcs,
//     hcpcsmod, icd10pcs, poaexempt) always stops it: the code sets in force
//     on the date of service must be loaded for every code system used.
//     No ICD-10-CM Tabular List (NO_RELEASE_FOR_DOS:icd10cm-tabular: its
//     Excludes1, code-first and 7th-character instructions unchecked)
//     always stops it: they could apply to any diagnosis.
//     A site that deliberately bills without an NCCI table or the Tabular
//     List lists its note with the table on the allowlist
//     ("NO_RELEASE_FOR_DOS:ptp", "NO_RELEASE_FOR_DOS:icd10cm-tabular"); a
//     code set's release cannot be allowed away.

// The straight-through decisions.
const (
	AutoCoded   = "coded"
	AutoSkipped = "skipped"
)

// The reason codes of the straight-through policy. Reasons that come from
// an edit carry the edit's own code instead (see mapping/edits).
const (
	ReasonInpatient           = "INPATIENT_STAY"
	ReasonNoConditions        = "NO_CONDITIONS"
	ReasonDxWithoutICD10CM    = "DX_WITHOUT_ICD10CM"
	ReasonPxWithoutCPT        = "PROCEDURE_WITHOUT_CPT_HCPCS"
	ReasonNoEncounterDx       = "NO_ENCOUNTER_DIAGNOSIS"
	ReasonFirstListedUnranked = "FIRST_LISTED_UNRANKED"
	ReasonRankTie             = "RANK_TIE"
	ReasonOtherEncounter      = "DX_OTHER_ENCOUNTER"
	ReasonUnresolvedDx        = "DX_UNRESOLVED_REFERENCE"
	ReasonNotConfirmed        = "DX_NOT_CONFIRMED"
	ReasonNotActive           = "DX_NOT_ACTIVE"
	ReasonMultipleCodings     = "DX_MULTIPLE_CODINGS"
	ReasonFailed              = "AUTOCODE_FAILED"
)

// AutoDecision is what the straight-through coder decided on one work item:
// coded (no reasons) or skipped, with one reason per rule broken.
type AutoDecision struct {
	Decision string       `json:"decision"` // AutoCoded or AutoSkipped
	Reasons  []AutoReason `json:"reasons"`
}

// AutoReason is one reason a chart was left to a person: a stable code and
// a sentence a coder understands. Messages name codes, references and
// rules, never patient data.
type AutoReason struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// String renders the reason as "CODE: sentence", as the single-item view
// and the item's note show it.
func (r AutoReason) String() string { return r.Code + ": " + r.Message }

// ReasonStrings renders the decision's reasons as "CODE: sentence"
// strings, never nil.
func (d AutoDecision) ReasonStrings() []string {
	out := make([]string, len(d.Reasons))
	for i, r := range d.Reasons {
		out[i] = r.String()
	}
	return out
}

// Note is the one-line summary kept in the item's autocode note.
func (d AutoDecision) Note() string {
	if d.Decision == AutoCoded {
		return "coded straight through"
	}
	return "not coded straight through: " + strings.Join(d.ReasonStrings(), "; ")
}

// Skip is a skipped decision with reasons.
func Skip(reasons ...AutoReason) AutoDecision {
	return AutoDecision{Decision: AutoSkipped, Reasons: reasons}
}

// StraightThroughPolicy is the straight-through policy's settings.
type StraightThroughPolicy struct {
	// AllowWarnings are the chart-warning edit codes that do not stop a
	// chart (CODEBRIDGE_AUTOCODE_ALLOW_WARNINGS); empty by default. A
	// coverage note about an NCCI table is allowed only when named with its
	// table ("NO_RELEASE_FOR_DOS:ptp", "NO_RELEASE_FOR_DOS:mue"): a site
	// that deliberately bills without that table says so. Errors, and the
	// release of a code set the claim's codes come from (ICD-10-CM,
	// ICD-10-PCS, HCPCS), are never allowed by it.
	AllowWarnings []string
}

// Decide applies the policy to chart c, the proposed assignment a, the
// reasons the proposal could not be made (unproposed, from
// mapping.AutoAssignment; a is then empty and es nil) and the edits es
// found on a. It is pure: the same inputs give the same decision.
func (p StraightThroughPolicy) Decide(c *Chart, a Assignment, unproposed []AutoReason, es []Edit) AutoDecision {
	var rs []AutoReason
	add := func(more ...AutoReason) {
		for _, r := range more {
			if !slices.Contains(rs, r) {
				rs = append(rs, r)
			}
		}
	}
	add(unproposed...)
	if c != nil {
		o := SequenceDiagnoses(c)
		add(o.Reasons...)
		add(standing(c, o.Encounter)...)
	}
	add(p.editReasons(a, es)...)
	if len(rs) == 0 {
		return AutoDecision{Decision: AutoCoded, Reasons: []AutoReason{}}
	}
	return Skip(rs...)
}

// editReasons lists the edits that stop the chart (rules 4 and 5).
func (p StraightThroughPolicy) editReasons(a Assignment, es []Edit) []AutoReason {
	var out []AutoReason
	for _, e := range es {
		switch {
		case e.Severity == "error":
			out = append(out, AutoReason{e.Code, e.Message + " (an error edit: a coder resolves it)"})
		case e.Covers != "":
			why := coverageStops(e, a)
			if why != "" && !(tableNote(e) && slices.Contains(p.AllowWarnings, e.Code+":"+e.Covers)) {
				out = append(out, AutoReason{e.Code, e.Message + "; " + why})
			}
		case slices.Contains(p.AllowWarnings, e.Code):
		default:
			out = append(out, AutoReason{e.Code, e.Message +
				" (a warning for a coder to review; CODEBRIDGE_AUTOCODE_ALLOW_WARNINGS does not list it)"})
		}
	}
	return out
}

// tableNote reports whether coverage note e is about an NCCI table or the
// CPT release, which the allowlist may name ("NO_RELEASE_FOR_DOS:ptp"),
// rather than a code set a claim's codes come from, which it never may.
func tableNote(e Edit) bool {
	switch codes.System(e.Covers) {
	case codes.PTPTable, codes.MUETable, codes.CPT, codes.ICD10CMTabular:
		return true
	}
	return false
}

// coverageStops says why a coverage note stops the chart, or "" when the
// missing rules could not have fired on assignment a (rule 5).
func coverageStops(e Edit, a Assignment) string {
	switch codes.System(e.Covers) {
	case codes.CPT:
		return "" // raised only on a code of valid CPT format
	case codes.PTPTable:
		if len(a.Lines) >= 2 {
			return fmt.Sprintf("with %d service lines an NCCI PTP edit could apply, so a coder checks the pairs", len(a.Lines))
		}
		return ""
	case codes.MUETable:
		if code, units := maxUnitsPerDay(a); units > 1 {
			return fmt.Sprintf("%s is billed %d units on one date of service, so an MUE could apply and a coder checks the units", code, units)
		}
		return ""
	case codes.ICD10CMTabular:
		return "the Tabular List instructions (Excludes1, code first, 7th characters) could apply to any diagnosis, so a coder checks them"
	}
	return "the code set in force on the date of service must be loaded for every code system a straight-through claim uses"
}

// maxUnitsPerDay is the code billed with the most units on one date of
// service (lines of one code and date summed, as MUE adjudication
// indicators 2 and 3 do), and those units.
func maxUnitsPerDay(a Assignment) (string, int) {
	type key struct{ code, day string }
	sum := map[key]int{}
	best, bestUnits := "", 0
	for _, l := range a.Lines {
		k := key{strings.ToUpper(strings.TrimSpace(l.Code)), l.ServiceDate}
		sum[k] += max(l.Units, 1)
		if sum[k] > bestUnits || sum[k] == bestUnits && k.code < best {
			best, bestUnits = k.code, sum[k]
		}
	}
	return best, bestUnits
}

// DiagnosisOrder is a chart's diagnoses in the sequence a straight-through
// claim lists them (rule 2), with the reasons the sequence is ambiguous.
type DiagnosisOrder struct {
	// Encounter are the encounter diagnoses: ranked ones by rank, then the
	// others by their codings. The first is the first-listed diagnosis
	// when Reasons is empty.
	Encounter []DocumentedItem
	// Reasons say why the first-listed diagnosis or the sequence is
	// ambiguous; empty when it is not.
	Reasons []AutoReason
}

// IsEncounterDiagnosis reports whether Condition d is an encounter
// diagnosis of chart c: listed in Encounter.diagnosis, or of category
// encounter-diagnosis.
func (c *Chart) IsEncounterDiagnosis(d DocumentedItem) bool {
	if slices.Contains(d.Category, "encounter-diagnosis") {
		return true
	}
	return slices.ContainsFunc(c.Encounter.Diagnoses, func(e EncounterDiagnosis) bool { return e.Condition == d.Reference })
}

// NeverCoded reports whether Condition d is refuted or entered in error:
// shown on the chart as context, never coded.
func NeverCoded(d DocumentedItem) bool {
	return d.VerificationStatus == "refuted" || d.VerificationStatus == "entered-in-error"
}

// activeClinical are the clinicalStatus codes of a condition still present.
var activeClinical = []string{"active", "recurrence", "relapse"}

// SequenceDiagnoses orders chart c's diagnoses (rule 2). Ranks are read
// from the Encounter.diagnosis entries with use "billing" when there are
// any (the diagnosis-role the claim follows), else from all entries; a
// Condition listed under several ranks takes the lowest.
func SequenceDiagnoses(c *Chart) DiagnosisOrder {
	var o DiagnosisOrder
	present := map[string]bool{}
	for _, d := range c.Conditions {
		present[d.Reference] = true
	}
	for _, e := range c.Encounter.Diagnoses {
		if !strings.HasPrefix(e.Condition, "Condition/") {
			o.Reasons = append(o.Reasons, AutoReason{ReasonUnresolvedDx, fmt.Sprintf(
				"an Encounter.diagnosis entry (rank %d) names no Condition (display text only, a contained resource or a Procedure); a coder reads it",
				e.Rank)})
			continue
		}
		if !present[e.Condition] {
			o.Reasons = append(o.Reasons, AutoReason{ReasonOtherEncounter, fmt.Sprintf(
				"Encounter.diagnosis names %s, which is not documented for this encounter (it belongs to another encounter or has not arrived); a coder confirms the diagnoses", e.Condition)})
		}
	}
	entries := c.Encounter.Diagnoses
	if slices.ContainsFunc(entries, func(e EncounterDiagnosis) bool { return e.Use == "billing" }) {
		entries = slices.DeleteFunc(slices.Clone(entries), func(e EncounterDiagnosis) bool { return e.Use != "billing" })
	}
	rank := map[string]int{}
	for _, e := range entries {
		if e.Rank > 0 && present[e.Condition] && (rank[e.Condition] == 0 || e.Rank < rank[e.Condition]) {
			rank[e.Condition] = e.Rank
		}
	}
	byRank := map[int][]string{}
	for ref, r := range rank {
		byRank[r] = append(byRank[r], ref)
	}
	ranks := make([]int, 0, len(byRank))
	for r := range byRank {
		ranks = append(ranks, r)
	}
	sort.Ints(ranks)
	for _, r := range ranks {
		if refs := byRank[r]; len(refs) > 1 {
			sort.Strings(refs)
			o.Reasons = append(o.Reasons, AutoReason{ReasonRankTie, fmt.Sprintf(
				"Encounter.diagnosis rank %d is given to %s: the sequence of diagnoses must not depend on ids or arrival order, so a coder chooses it",
				r, strings.Join(refs, " and "))})
		}
	}
	for _, d := range c.Conditions {
		if c.IsEncounterDiagnosis(d) {
			o.Encounter = append(o.Encounter, d)
		}
	}
	sort.SliceStable(o.Encounter, func(i, j int) bool {
		a, b := o.Encounter[i], o.Encounter[j]
		if ra, rb := rankOrder(rank[a.Reference]), rankOrder(rank[b.Reference]); ra != rb {
			return ra < rb
		}
		return codingKey(a) < codingKey(b)
	})
	switch {
	case len(o.Encounter) == 0:
		o.Reasons = append(o.Reasons, AutoReason{ReasonNoEncounterDx,
			"no Condition is an encounter diagnosis (Encounter.diagnosis or category encounter-diagnosis), so there is no first-listed diagnosis (ICD-10-CM Official Guidelines IV.G)"})
	case len(o.Encounter) == 1, rank[o.Encounter[0].Reference] == 1:
	default:
		o.Reasons = append(o.Reasons, AutoReason{ReasonFirstListedUnranked, fmt.Sprintf(
			"%d encounter diagnoses and none has Encounter.diagnosis rank 1: the first-listed diagnosis, chiefly responsible for the visit (ICD-10-CM Official Guidelines IV.G), is for a coder to choose",
			len(o.Encounter))})
	}
	return o
}

func rankOrder(r int) int {
	if r <= 0 {
		return 1 << 30
	}
	return r
}

// codingKey orders unranked diagnoses by what they say, never by id.
func codingKey(d DocumentedItem) string {
	parts := make([]string, len(d.Codings))
	for i, c := range d.Codings {
		parts[i] = c.System + "|" + c.Code
	}
	return strings.Join(parts, ",") + "\x00" + d.Reference
}

// standing checks that every encounter diagnosis is confirmed and active
// (rule 3).
func standing(c *Chart, encounterDx []DocumentedItem) []AutoReason {
	var out []AutoReason
	finished := c.Encounter.Status == "finished"
	for _, d := range encounterDx {
		switch v := d.VerificationStatus; {
		case v == "confirmed", v == "" && finished:
		case v == "":
			out = append(out, AutoReason{ReasonNotConfirmed, fmt.Sprintf(
				"%s has no verificationStatus and the encounter is not finished, so the diagnosis is not known to be confirmed", d.Reference)})
		case v == "provisional", v == "differential", v == "unconfirmed":
			out = append(out, AutoReason{ReasonNotConfirmed, fmt.Sprintf(
				"%s is %s: an uncertain diagnosis is not coded as if certain in outpatient coding (ICD-10-CM Official Guidelines IV.H); a coder codes the signs and symptoms instead",
				d.Reference, v)})
		case NeverCoded(d):
			out = append(out, AutoReason{ReasonNotConfirmed, fmt.Sprintf(
				"%s is listed as an encounter diagnosis but is %s: it is never coded, and a coder checks what the visit was for", d.Reference, v)})
		default:
			out = append(out, AutoReason{ReasonNotConfirmed, fmt.Sprintf(
				"%s has verificationStatus %q, which is not confirmed", d.Reference, v)})
		}
		switch s := d.Status; {
		case s == "" || slices.Contains(activeClinical, s) || NeverCoded(d):
		case s == "remission":
			out = append(out, AutoReason{ReasonNotActive, fmt.Sprintf(
				"%s is in remission (clinicalStatus): some categories have in-remission codes (e.g. F10.21, F33.4-); a coder decides (ICD-10-CM Official Guidelines IV.J)",
				d.Reference)})
		default:
			out = append(out, AutoReason{ReasonNotActive, fmt.Sprintf(
				"%s is %s (clinicalStatus): a condition that no longer exists is not coded (ICD-10-CM Official Guidelines IV.J); a coder checks whether it was treated at this visit",
				d.Reference, s)})
		}
		if cs := icd10cmCodes(d); len(cs) > 1 && !NeverCoded(d) {
			out = append(out, AutoReason{ReasonMultipleCodings, fmt.Sprintf(
				"%s carries %d ICD-10-CM codes (%s): which to report is a coder's decision, since a sign or symptom integral to a definitive diagnosis is not coded (ICD-10-CM Official Guidelines I.B.5, IV.D)",
				d.Reference, len(cs), strings.Join(cs, ", "))})
		}
	}
	return out
}

// icd10cmCodes are the distinct ICD-10-CM codes of Condition d, in display
// form and sorted.
func icd10cmCodes(d DocumentedItem) []string {
	var out []string
	for _, c := range d.Codings {
		if c.System != fhir.SystemICD10CM || strings.TrimSpace(c.Code) == "" {
			continue
		}
		if code := codes.Display(codes.ICD10CM, c.Code); !slices.Contains(out, code) {
			out = append(out, code)
		}
	}
	sort.Strings(out)
	return out
}
