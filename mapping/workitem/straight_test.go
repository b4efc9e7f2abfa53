package workitem_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// stChart is a clean straight-through chart: a finished office visit with
// one confirmed, active encounter diagnosis of rank 1.
func stChart() *workitem.Chart {
	return &workitem.Chart{
		Encounter: workitem.EncounterView{Reference: "Encounter/e1", Status: "finished", Class: "AMB",
			Diagnoses: []workitem.EncounterDiagnosis{{Condition: "Condition/c1", Rank: 1}}},
		Conditions: []workitem.DocumentedItem{stDx("Condition/c1", "J20.9")},
	}
}

func stDx(ref, code string) workitem.DocumentedItem {
	return workitem.DocumentedItem{Reference: ref, Category: []string{"encounter-diagnosis"}, Status: "active",
		VerificationStatus: "confirmed", Codings: []workitem.Coding{{System: "http://hl7.org/fhir/sid/icd-10-cm", Code: code}}}
}

func stAssignment(lines ...workitem.AssignedLine) workitem.Assignment {
	if len(lines) == 0 {
		lines = []workitem.AssignedLine{{Code: "99213", Units: 1, Diagnoses: []int{1}}}
	}
	return workitem.Assignment{Diagnoses: []workitem.AssignedDiagnosis{{Code: "J20.9"}}, Lines: lines}
}

func stLine(code string, units int, day string) workitem.AssignedLine {
	return workitem.AssignedLine{Code: code, Units: units, Diagnoses: []int{1}, ServiceDate: day}
}

func warning(code string) workitem.Edit {
	return workitem.Edit{Code: code, Severity: "warning", Message: code + " found"}
}

func coverage(code, system string) workitem.Edit {
	return workitem.Edit{Code: code, Severity: "warning", Message: "no " + system + " release is loaded", Covers: system}
}

// TestStraightThroughPolicy has one row per rule of the policy, a chart
// that passes and one that fails, each naming the rule's source.
func TestStraightThroughPolicy(t *testing.T) {
	tests := []struct {
		name       string
		chart      func(*workitem.Chart)
		assignment workitem.Assignment
		unproposed []workitem.AutoReason
		edits      []workitem.Edit
		allow      []string
		want       []string // reason codes; nil = coded
	}{
		{name: "clean chart is coded"},

		// Rule 1: a complete proposal (mapping.AutoAssignment).
		{name: "rule 1: no proposal (inpatient, POA needed) is skipped",
			unproposed: []workitem.AutoReason{{Code: workitem.ReasonInpatient, Message: "inpatient"}}, want: []string{workitem.ReasonInpatient}},

		// Rule 4: no error edit; no chart warning unless allowlisted.
		{name: "rule 4: an error edit (DX_HEADER, ICD-10-CM Tabular: code to the highest specificity) is skipped",
			edits: []workitem.Edit{{Code: "DX_HEADER", Severity: "error", Message: "J20 is a header"}}, want: []string{"DX_HEADER"}},
		{name: "rule 4: a chart warning (SEX_CONFLICT, MCE sex edit) is skipped",
			edits: []workitem.Edit{warning("SEX_CONFLICT")}, want: []string{"SEX_CONFLICT"}},
		{name: "rule 4: a warning on CODEBRIDGE_AUTOCODE_ALLOW_WARNINGS is coded",
			edits: []workitem.Edit{warning("TELEHEALTH_MODIFIER")}, allow: []string{"TELEHEALTH_MODIFIER"}},
		{name: "rule 4: the allowlist never lets an error through",
			edits: []workitem.Edit{{Code: "AGE_CONFLICT", Severity: "error", Message: "x"}}, allow: []string{"AGE_CONFLICT"}, want: []string{"AGE_CONFLICT"}},

		// Rule 5: coverage notes stop a chart only when their rules could fire.
		{name: "rule 5: no CPT release (CPT_UNVERIFIED, AMA CPT not shipped) never stops a valid-format CPT code",
			edits: []workitem.Edit{coverage("CPT_UNVERIFIED", "cpt")}},
		{name: "rule 5: no NCCI PTP table with one line is coded",
			edits: []workitem.Edit{coverage("NO_RELEASE_FOR_DOS", "ptp")}},
		{name: "rule 5: no NCCI PTP table with two lines is skipped (NCCI PTP edits pair lines of one date)",
			assignment: stAssignment(stLine("99213", 1, ""), stLine("96372", 1, "")),
			edits:      []workitem.Edit{coverage("NO_RELEASE_FOR_DOS", "ptp")}, want: []string{"NO_RELEASE_FOR_DOS"}},
		{name: "rule 5: no MUE table with 1 unit per code and day is coded",
			assignment: stAssignment(stLine("97110", 1, "2026-03-10"), stLine("97110", 1, "2026-03-11")),
			edits:      []workitem.Edit{coverage("NO_RELEASE_FOR_DOS", "mue")}},
		{name: "rule 5: no MUE table with a line above 1 unit is skipped (NCCI MUE: units per line)",
			assignment: stAssignment(stLine("97110", 2, "")),
			edits:      []workitem.Edit{coverage("NO_RELEASE_FOR_DOS", "mue")}, want: []string{"NO_RELEASE_FOR_DOS"}},
		{name: "rule 5: no MUE table with 2 units of one code on one day is skipped (MUE adjudication indicators 2, 3)",
			assignment: stAssignment(stLine("97110", 1, ""), stLine("97110", 1, "")),
			edits:      []workitem.Edit{coverage("NO_RELEASE_FOR_DOS", "mue")}, want: []string{"NO_RELEASE_FOR_DOS"}},
		{name: "rule 5: no ICD-10-CM release for the date of service is skipped, even allowlisted",
			edits: []workitem.Edit{coverage("NO_RELEASE_FOR_DOS", "icd10cm")}, allow: []string{"NO_RELEASE_FOR_DOS", "NO_RELEASE_FOR_DOS:icd10cm"},
			want: []string{"NO_RELEASE_FOR_DOS"}},
		{name: "rule 5: no PTP table, deliberately allowed with its table named, is coded",
			assignment: stAssignment(stLine("99213", 1, ""), stLine("96372", 1, "")),
			edits:      []workitem.Edit{coverage("NO_RELEASE_FOR_DOS", "ptp")}, allow: []string{"NO_RELEASE_FOR_DOS:ptp"}},
		{name: "rule 5: a bare NO_RELEASE_FOR_DOS on the allowlist does not allow a missing PTP table",
			assignment: stAssignment(stLine("99213", 1, ""), stLine("96372", 1, "")),
			edits:      []workitem.Edit{coverage("NO_RELEASE_FOR_DOS", "ptp")}, allow: []string{"NO_RELEASE_FOR_DOS"}, want: []string{"NO_RELEASE_FOR_DOS"}},
		{name: "rule 5: no ICD-10-CM Tabular List (its instructions unchecked) is skipped",
			edits: []workitem.Edit{coverage("NO_RELEASE_FOR_DOS", "icd10cm-tabular")}, want: []string{"NO_RELEASE_FOR_DOS"}},
		{name: "rule 5: no ICD-10-CM Tabular List, deliberately allowed with its name, is coded",
			edits: []workitem.Edit{coverage("NO_RELEASE_FOR_DOS", "icd10cm-tabular")}, allow: []string{"NO_RELEASE_FOR_DOS:icd10cm-tabular"}},
		{name: "rule 5: no HCPCS release for a HCPCS line is skipped",
			edits: []workitem.Edit{coverage("NO_RELEASE_FOR_DOS", "hcpcs")}, want: []string{"NO_RELEASE_FOR_DOS"}},

		// Rule 2: an unambiguous first-listed diagnosis (Guidelines IV.G).
		{name: "rule 2: the single unranked encounter diagnosis is first-listed",
			chart: func(c *workitem.Chart) { c.Encounter.Diagnoses = nil }},
		{name: "rule 2: several encounter diagnoses with rank 1 on one is coded",
			chart: func(c *workitem.Chart) {
				c.Conditions = append(c.Conditions, stDx("Condition/c2", "I10"))
			}},
		{name: "rule 2: several encounter diagnoses without rank is skipped (IV.G)",
			chart: func(c *workitem.Chart) {
				c.Encounter.Diagnoses = nil
				c.Conditions = append(c.Conditions, stDx("Condition/c2", "I10"))
			}, want: []string{workitem.ReasonFirstListedUnranked}},
		{name: "rule 2: ranks without a rank 1 is skipped (IV.G)",
			chart: func(c *workitem.Chart) {
				c.Encounter.Diagnoses = []workitem.EncounterDiagnosis{{Condition: "Condition/c1", Rank: 2}, {Condition: "Condition/c2", Rank: 3}}
				c.Conditions = append(c.Conditions, stDx("Condition/c2", "I10"))
			}, want: []string{workitem.ReasonFirstListedUnranked}},
		{name: "rule 2: a rank tie is skipped",
			chart: func(c *workitem.Chart) {
				c.Encounter.Diagnoses = append(c.Encounter.Diagnoses, workitem.EncounterDiagnosis{Condition: "Condition/c2", Rank: 1})
				c.Conditions = append(c.Conditions, stDx("Condition/c2", "I10"))
			}, want: []string{workitem.ReasonRankTie}},
		{name: "rule 2: billing-use ranks decide over admitting-diagnosis ranks",
			chart: func(c *workitem.Chart) {
				c.Encounter.Diagnoses = []workitem.EncounterDiagnosis{{Condition: "Condition/c2", Rank: 1, Use: "AD"}, {Condition: "Condition/c1", Rank: 1, Use: "billing"}}
				c.Conditions = append(c.Conditions, stDx("Condition/c2", "I10"))
			}},
		{name: "rule 2: a rank pointing at a Condition of another encounter is skipped",
			chart: func(c *workitem.Chart) {
				c.Encounter.Diagnoses = []workitem.EncounterDiagnosis{{Condition: "Condition/other", Rank: 1}, {Condition: "Condition/c1", Rank: 2}}
			}, want: []string{workitem.ReasonOtherEncounter}},
		{name: "rule 2: an Encounter.diagnosis naming no Condition (display text only) is skipped",
			chart: func(c *workitem.Chart) {
				c.Encounter.Diagnoses = append(c.Encounter.Diagnoses, workitem.EncounterDiagnosis{Rank: 2})
			}, want: []string{workitem.ReasonUnresolvedDx}},
		{name: "rule 2: no encounter diagnosis is skipped",
			chart: func(c *workitem.Chart) {
				c.Encounter.Diagnoses = nil
				c.Conditions[0].Category = []string{"problem-list-item"}
			}, want: []string{workitem.ReasonNoEncounterDx}},

		// Rule 3: every encounter diagnosis confirmed (IV.H) and active (IV.J).
		{name: "rule 3: no verificationStatus on a finished encounter's diagnosis is confirmed",
			chart: func(c *workitem.Chart) { c.Conditions[0].VerificationStatus = "" }},
		{name: "rule 3: no verificationStatus on an unfinished encounter is skipped",
			chart: func(c *workitem.Chart) { c.Conditions[0].VerificationStatus, c.Encounter.Status = "", "in-progress" },
			want:  []string{workitem.ReasonNotConfirmed}},
		{name: "rule 3: a differential diagnosis is skipped (IV.H)",
			chart: func(c *workitem.Chart) { c.Conditions[0].VerificationStatus = "differential" }, want: []string{workitem.ReasonNotConfirmed}},
		{name: "rule 3: a provisional diagnosis is skipped (IV.H)",
			chart: func(c *workitem.Chart) { c.Conditions[0].VerificationStatus = "provisional" }, want: []string{workitem.ReasonNotConfirmed}},
		{name: "rule 3: an unconfirmed secondary diagnosis is skipped (IV.H)",
			chart: func(c *workitem.Chart) {
				d := stDx("Condition/c2", "R05.9")
				d.VerificationStatus = "unconfirmed"
				c.Conditions = append(c.Conditions, d)
			}, want: []string{workitem.ReasonNotConfirmed}},
		{name: "rule 3: a refuted encounter diagnosis is skipped",
			chart: func(c *workitem.Chart) { c.Conditions[0].VerificationStatus = "refuted" }, want: []string{workitem.ReasonNotConfirmed}},
		{name: "rule 3: a resolved encounter diagnosis is skipped (IV.J)",
			chart: func(c *workitem.Chart) { c.Conditions[0].Status = "resolved" }, want: []string{workitem.ReasonNotActive}},
		{name: "rule 3: a diagnosis in remission is skipped, for a coder to choose an in-remission code (IV.J)",
			chart: func(c *workitem.Chart) { c.Conditions[0].Status = "remission" }, want: []string{workitem.ReasonNotActive}},
		{name: "rule 3: a diagnosis with two ICD-10-CM codings is skipped (I.B.5, IV.D)",
			chart: func(c *workitem.Chart) {
				c.Conditions[0].Codings = append(c.Conditions[0].Codings, workitem.Coding{System: "http://hl7.org/fhir/sid/icd-10-cm", Code: "R05.9"})
			}, want: []string{workitem.ReasonMultipleCodings}},
		{name: "rule 3: the same ICD-10-CM code twice (J209, J20.9) and a SNOMED coding is one code",
			chart: func(c *workitem.Chart) {
				c.Conditions[0].Codings = append(c.Conditions[0].Codings, workitem.Coding{System: "http://hl7.org/fhir/sid/icd-10-cm", Code: "J209"},
					workitem.Coding{System: "http://snomed.info/sct", Code: "10509002"})
			}},
		{name: "rule 3: two ICD-10-CM codings on a problem-list entry are context, not a stop",
			chart: func(c *workitem.Chart) {
				c.Conditions = append(c.Conditions, workitem.DocumentedItem{Reference: "Condition/pl", Category: []string{"problem-list-item"}, Status: "active",
					VerificationStatus: "confirmed", Codings: []workitem.Coding{{System: "http://hl7.org/fhir/sid/icd-10-cm", Code: "I10"},
						{System: "http://hl7.org/fhir/sid/icd-10-cm", Code: "E11.9"}}})
			}},
		{name: "rule 3: a recurrence is active",
			chart: func(c *workitem.Chart) { c.Conditions[0].Status = "recurrence" }},
		{name: "rule 3: a resolved or refuted problem-list entry is context, not a stop",
			chart: func(c *workitem.Chart) {
				old := workitem.DocumentedItem{Reference: "Condition/old", Category: []string{"problem-list-item"}, Status: "resolved", VerificationStatus: "confirmed"}
				wrong := workitem.DocumentedItem{Reference: "Condition/wrong", Category: []string{"problem-list-item"}, Status: "active", VerificationStatus: "entered-in-error"}
				c.Conditions = append(c.Conditions, old, wrong)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := stChart()
			if tt.chart != nil {
				tt.chart(c)
			}
			a := tt.assignment
			if a.Diagnoses == nil {
				a = stAssignment()
			}
			if tt.unproposed != nil {
				a = workitem.Assignment{}
			}
			d := workitem.StraightThroughPolicy{AllowWarnings: tt.allow}.Decide(c, a, tt.unproposed, tt.edits)
			var got []string
			for _, r := range d.Reasons {
				got = append(got, r.Code)
				if r.Message == "" {
					t.Errorf("reason %s has no sentence", r.Code)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("reasons mismatch (-want +got):\n%s", diff)
			}
			wantDecision := workitem.AutoCoded
			if tt.want != nil {
				wantDecision = workitem.AutoSkipped
			}
			if d.Decision != wantDecision {
				t.Errorf("decision %q, want %q", d.Decision, wantDecision)
			}
		})
	}
}

// TestSequenceDiagnoses: ranked encounter diagnoses by rank, unranked ones
// by code whatever their ids; problem-list entries, even confirmed and
// active, are not in it (IV.J); the same chart in any arrival order gives
// the same sequence.
func TestSequenceDiagnoses(t *testing.T) {
	pl := workitem.DocumentedItem{Reference: "Condition/a", Category: []string{"problem-list-item"}, Status: "active", VerificationStatus: "confirmed",
		Codings: []workitem.Coding{{System: "http://hl7.org/fhir/sid/icd-10-cm", Code: "E11.9"}}}
	conds := []workitem.DocumentedItem{stDx("Condition/z", "R05.9"), stDx("Condition/y", "J20.9"), stDx("Condition/x", "I10"), pl}
	c := &workitem.Chart{Encounter: workitem.EncounterView{Status: "finished",
		Diagnoses: []workitem.EncounterDiagnosis{{Condition: "Condition/y", Rank: 1}}}}
	for _, order := range [][]int{{0, 1, 2, 3}, {3, 2, 1, 0}, {2, 0, 3, 1}} {
		c.Conditions = nil
		for _, i := range order {
			c.Conditions = append(c.Conditions, conds[i])
		}
		o := workitem.SequenceDiagnoses(c)
		var got []string
		for _, d := range o.Encounter {
			got = append(got, d.Reference)
		}
		if diff := cmp.Diff([]string{"Condition/y", "Condition/x", "Condition/z"}, got); diff != "" || len(o.Reasons) > 0 {
			t.Errorf("order %v: sequence mismatch (-want +got):\n%s reasons %v", order, diff, o.Reasons)
		}
	}
}

// TestAutoDecisionStrings: the single-item view's reasons read "CODE:
// sentence"; the note names every code.
func TestAutoDecisionStrings(t *testing.T) {
	d := workitem.Skip(workitem.AutoReason{Code: "RANK_TIE", Message: "rank 1 is shared"}, workitem.AutoReason{Code: "SEX_CONFLICT", Message: "O80 is obstetric"})
	if diff := cmp.Diff([]string{"RANK_TIE: rank 1 is shared", "SEX_CONFLICT: O80 is obstetric"}, d.ReasonStrings()); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	if n := d.Note(); !strings.Contains(n, "RANK_TIE") || !strings.Contains(n, "SEX_CONFLICT") {
		t.Errorf("note %q lacks a reason code", n)
	}
	coded := workitem.StraightThroughPolicy{}.Decide(stChart(), stAssignment(), nil, nil)
	if coded.Decision != workitem.AutoCoded || coded.Note() != "coded straight through" || coded.Reasons == nil {
		t.Errorf("clean chart: %+v %q", coded, coded.Note())
	}
}
