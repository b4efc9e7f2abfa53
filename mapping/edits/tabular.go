package edits

import (
	"fmt"
	"strings"

	"github.com/codebridge/codebridge/mapping/codes"
)

// The edits of the ICD-10-CM Tabular List instructions (icd10cm-tabular
// release; codes.Lookup.Tabular gives the notes in force for a code, its
// own and those of every node above it). Sources: ICD-10-CM Official
// Guidelines for Coding and Reporting FY2026, Section I.A (conventions):
//
//   - TABULAR_EXCLUDES1 (error): two diagnoses of the chart where one is
//     named by an Excludes1 note in force for the other: "the code
//     excluded should never be used at the same time as the code above
//     the Excludes1 note" (I.A.12.a). The exception of I.A.12.a (two
//     unrelated conditions) is for a person to establish with the
//     provider; the edit cannot know it.
//   - Excludes2 notes ("not included here", I.A.12.b: both codes may be
//     reported together) raise no edit; Lookup.Tabular gives them for
//     display.
//   - TABULAR_CODE_FIRST (error): a code with a "code first" note listed
//     before a diagnosis the note names when none it names precedes it;
//     a manifestation ("in diseases classified elsewhere" in its title)
//     first-listed or alone, and any code whose note is not qualified "if
//     applicable" / "any associated" coded alone (I.A.13: the etiology
//     is sequenced first, a manifestation code is never first-listed and
//     is used together with its underlying condition; I.B.7).
//   - TABULAR_ETIOLOGY_UNLISTED (warning): a manifestation listed after
//     other diagnoses none of which its "code first" note names: the
//     note's list is often examples ("such as"), so a person confirms
//     that a diagnosis before it is its underlying condition.
//   - TABULAR_USE_ADDITIONAL_CODE: a diagnosis named by a "use additional
//     code" note of a diagnosis listed after it (I.B.7: the same
//     sequencing rule as the etiology/manifestation pair, the additional
//     code is secondary; I.A.13). An error when the misplaced code is
//     "classified elsewhere" (a manifestation, or a B95-B97 infectious
//     agent), which never precedes the condition it qualifies; otherwise a
//     warning, since the first-listed diagnosis is the chief reason for the
//     encounter (Section IV.G) and a person confirms the sequence.
//   - TABULAR_7TH_CHARACTER (error): a code below a sevenChrDef reported
//     without its 7th character, without the placeholder X that fills a
//     code of fewer than six characters, or with a 7th character the
//     definition does not list (I.A.3: any applicable 7th character is
//     required; I.A.4 placeholder X; I.A.5 7th characters).
//
// Each edit names the note it applies (Rule: "ICD-10-CM Tabular List
// FY2027, Excludes1 note at E11") and its words (RuleText). The
// instructions are those of the release in force on the date that chooses
// the chart's ICD-10-CM release (codeSetDate). Without such a release the
// edits are not run and the chart gets one coverage note,
// NO_RELEASE_FOR_DOS with Covers "icd10cm-tabular".
const (
	TabularExcludes1        = "TABULAR_EXCLUDES1"
	TabularCodeFirst        = "TABULAR_CODE_FIRST"
	TabularEtiologyUnlisted = "TABULAR_ETIOLOGY_UNLISTED"
	TabularUseAdditional    = "TABULAR_USE_ADDITIONAL_CODE"
	TabularSeventhChar      = "TABULAR_7TH_CHARACTER"
)

// tabDx is one distinct diagnosis of the chart with its instructions.
type tabDx struct {
	idx  int    // index in Chart.Diagnoses
	code string // storage form
	in   *codes.TabularInstructions
}

func (d tabDx) target() string { return fmt.Sprintf("diagnoses[%d]", d.idx) }
func (d tabDx) shown() string  { return codes.Display(codes.ICD10CM, d.code) }

// tabular runs the Tabular List edits (see the constants above).
func (k *checker) tabular() {
	var dxs []tabDx
	seen := map[string]bool{}
	for i, d := range k.c.Diagnoses {
		code := codes.Normalize(codes.ICD10CM, d.Code)
		if code != "" && !seen[code] {
			seen[code] = true
			dxs = append(dxs, tabDx{idx: i, code: code})
		}
	}
	if len(dxs) == 0 {
		return
	}
	dos := k.c.codeSetDate()
	for i := range dxs {
		in, err := k.lk.Tabular(k.ctx, dxs[i].code, dos)
		switch k.classify(err) {
		case found:
			dxs[i].in = &in
		case noRelease:
			k.warned[codes.ICD10CMTabular] = true
			k.note(NoReleaseForDOS, codes.ICD10CMTabular, "diagnoses",
				"no ICD-10-CM Tabular List (%s) release is loaded for the date of service %s: its instructions (Excludes1, code first, "+
					"use additional code, 7th characters) were not checked; %s", codes.ICD10CMTabular, day(dos),
				codes.MissingRelease(codes.ICD10CMTabular, dos))
			return
		case failed:
			return
		}
	}
	k.excludes1(dxs)
	ordered := map[[2]int]bool{} // (earlier, later) pairs already reported out of order
	k.codeFirst(dxs, ordered)
	k.useAdditional(dxs, ordered)
	for _, d := range dxs {
		k.seventhChar(d)
	}
}

// excludes1 reports each pair of diagnoses an Excludes1 note in force for
// one of them excludes, once, on the later of the two.
func (k *checker) excludes1(dxs []tabDx) {
	for j := range dxs {
		for i := range j {
			a, b := dxs[i], dxs[j]
			n, holder, other, ok := excluding(a, b)
			if !ok {
				n, holder, other, ok = excluding(b, a)
			}
			if !ok {
				continue
			}
			k.tabularEdit(TabularExcludes1, Error, b.target(), holder.in, "Excludes1", n.At, "Excludes1: "+n.Text,
				"ICD-10-CM %s and %s may not be reported together: the Excludes1 note at %s (in force for %s) excludes %s "+
					"(ICD-10-CM Official Guidelines I.A.12.a: the excluded code is never used at the same time as the code above the note)",
				a.shown(), b.shown(), n.At, holder.shown(), other.shown())
		}
	}
}

// excluding returns the Excludes1 note in force for holder that names
// other. A note never excludes the codes of its own node.
func excluding(holder, other tabDx) (codes.TabularInstruction, tabDx, tabDx, bool) {
	if holder.in == nil {
		return codes.TabularInstruction{}, holder, other, false
	}
	for _, n := range holder.in.Of(codes.NoteExcludes1) {
		if n.At.Kind == codes.NodeDiag && strings.HasPrefix(other.code, n.At.Name) {
			continue
		}
		if names(n, other.code) {
			return n, holder, other, true
		}
	}
	return codes.TabularInstruction{}, holder, other, false
}

// names reports whether note n refers to code.
func names(n codes.TabularInstruction, code string) bool {
	for _, r := range n.Refs {
		if r.Contains(code) {
			return true
		}
	}
	return false
}

// tabularEdit adds an edit citing the Tabular note of kind label at node
// at, with its words.
func (k *checker) tabularEdit(code string, sev Severity, target string, in *codes.TabularInstructions, label string,
	at codes.TabularRef, words, format string, args ...any) {
	k.add(code, sev, target, format, args...)
	k.cite(in, label, at, words)
}

// cite sets the rule of the last edit: the Tabular note of kind label at
// node at, and its words.
func (k *checker) cite(in *codes.TabularInstructions, label string, at codes.TabularRef, words string) {
	k.citeLast(fmt.Sprintf("ICD-10-CM Tabular List %s, %s note at %s", in.Release.Version, label, at), words)
}
