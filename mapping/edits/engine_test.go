package edits

import (
	"context"
	"strings"
	"testing"

	"github.com/codebridge/codebridge/mapping/codes"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// office is a clean professional office visit on 2025-11-14.
func office() Chart {
	return Chart{
		Sex: Female, BirthDate: date(1995, 3, 2), Class: "AMB", ClaimType: Professional,
		Start:     date(2025, 11, 14),
		Diagnoses: []Diagnosis{{Code: "J20.9"}},
		Lines:     []Line{{Code: "99213", Units: 1, Diagnoses: []int{1}}},
	}
}

// stay is a clean inpatient institutional stay, 2025-11-14 to 2025-11-16
// (a stay without its discharge date gets NO_DISCHARGE_DATE).
func stay() Chart {
	return Chart{
		Sex: Female, BirthDate: date(1995, 3, 2), Class: "IMP", ClaimType: Institutional,
		Start: date(2025, 11, 14), End: date(2025, 11, 16),
		Diagnoses:  []Diagnosis{{Code: "J20.9", POA: "Y"}},
		Procedures: []Procedure{{Code: "0016070"}},
	}
}

func e(code string, sev Severity, target string) Edit {
	return Edit{Code: code, Severity: sev, Target: target}
}

// note is a coverage note on target saying system was not loaded.
// note is a coverage note as the engine raises it: a warning, except a
// missing ICD-10-CM or ICD-10-PCS release, which no claim may be issued
// without (an error).
func note(code string, system codes.System, target string) Edit {
	sev := Warning
	if code == NoReleaseForDOS && (system == codes.ICD10CM || system == codes.ICD10PCS) {
		sev = Error
	}
	return Edit{Code: code, Severity: sev, Target: target, Covers: system}
}

func lines(ls ...Line) func(*Chart) { return func(c *Chart) { c.Lines = ls } }

func dx(codes ...string) func(*Chart) {
	return func(c *Chart) {
		c.Diagnoses = nil
		for _, code := range codes {
			c.Diagnoses = append(c.Diagnoses, Diagnosis{Code: code, POA: "Y"})
		}
	}
}

func line(code string, units int, mods ...string) Line {
	return Line{Code: code, Units: units, Diagnoses: []int{1}, Modifiers: mods}
}

type editTest struct {
	name   string
	base   func() Chart
	change func(*Chart)
	lookup func(codes.Lookup) codes.Lookup
	want   []Edit
}

func runEditTests(t *testing.T, tests []editTest) {
	t.Helper()
	cat := testCatalog(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.base()
			if tt.change != nil {
				tt.change(&c)
			}
			var lk codes.Lookup = cat
			if tt.lookup != nil {
				lk = tt.lookup(cat)
			}
			got, err := Check(context.Background(), lk, c)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(Edit{}, "Message", "Rule", "RuleText")); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
			for _, ed := range got {
				if ed.Message == "" || strings.Contains(ed.Message, "1995") {
					t.Errorf("%s: bad message %q", ed.Code, ed.Message)
				}
			}
		})
	}
}

func TestCheckDiagnoses(t *testing.T) {
	runEditTests(t, []editTest{
		{name: "clean office visit", base: office},
		{name: "clean inpatient stay", base: stay},
		{name: "dotless code", base: office, change: dx("J209")},
		{name: "DX_UNKNOWN", base: office, change: dx("J20.9", "U99.9"), want: []Edit{e(DxUnknown, Error, "diagnoses[1]")}},
		{name: "DX_HEADER J20", base: office, change: dx("J20"), want: []Edit{e(DxHeader, Error, "diagnoses[0]")}},
		{name: "DX_HEADER B88.0 in FY2026", base: office, change: dx("B88.0"), want: []Edit{e(DxHeader, Error, "diagnoses[0]")}},
		{name: "B88.0 billable in FY2025", base: office, change: func(c *Chart) { c.Start = date(2025, 9, 15); dx("B88.0")(c) },
			want: []Edit{note(NoReleaseForDOS, codes.MUETable, "lines[0].units")}},
		{name: "CODE_NOT_YET_VALID B88.01 in FY2025 (was DX_NOT_VALID_ON_DOS)", base: office, change: func(c *Chart) { c.Start = date(2025, 9, 15); dx("B88.01")(c) },
			want: []Edit{e(CodeNotYetValid, Error, "diagnoses[0]"), note(NoReleaseForDOS, codes.MUETable, "lines[0].units")}},
		{name: "DX_NOT_VALID_ON_DOS when the releases cannot tell", base: office,
			lookup: func(l codes.Lookup) codes.Lookup { return noHistory{l} },
			change: func(c *Chart) { c.Start = date(2025, 9, 15); dx("B88.01")(c) },
			want:   []Edit{e(DxNotValidOnDOS, Error, "diagnoses[0]"), note(NoReleaseForDOS, codes.MUETable, "lines[0].units")}},
		{name: "PX_IS_DIAGNOSIS CPT", base: office, change: dx("J20.9", "99213"), want: []Edit{e(PxIsDiagnosis, Error, "diagnoses[1]")}},
		{name: "PX_IS_DIAGNOSIS PCS", base: office, change: dx("J20.9", "0016070"), want: []Edit{e(PxIsDiagnosis, Error, "diagnoses[1]")}},
		{name: "DX_PRINCIPAL_MISSING", base: office, change: func(c *Chart) { c.Diagnoses = nil },
			want: []Edit{e(DxPrincipalMissing, Error, "diagnoses[0]"), e(LinePointerRange, Error, "lines[0].diagnoses[0]")}},
		{name: "DX_DUPLICATE", base: office, change: dx("J20.9", "R50.9", "J209"), want: []Edit{e(DxDuplicate, Error, "diagnoses[2]")}},
		{name: "PROF_TOO_MANY_DX", base: office,
			change: dx("J20.9", "R50.9", "I10", "E11.9", "R06.00", "Z79.4", "K21.9", "J02.9", "E78.5", "F41.9", "G47.00", "N39.0", "A00.0"),
			want:   []Edit{e(ProfTooManyDx, Error, "diagnoses[12]")}},
		{name: "twelve diagnoses", base: office,
			change: dx("J20.9", "R50.9", "I10", "E11.9", "R06.00", "Z79.4", "K21.9", "J02.9", "E78.5", "F41.9", "G47.00", "N39.0")},
	})
}

func TestCheckPOA(t *testing.T) {
	poa := func(code, v string) func(*Chart) {
		return func(c *Chart) { c.Diagnoses = []Diagnosis{{Code: "J20.9", POA: "Y"}, {Code: code, POA: v}} }
	}
	runEditTests(t, []editTest{
		{name: "POA W", base: stay, change: poa("R50.9", "w")},
		{name: "POA_MISSING", base: stay, change: poa("R50.9", ""), want: []Edit{e(POAMissing, Error, "diagnoses[1].poa")}},
		{name: "POA_INVALID value", base: stay, change: poa("R50.9", "X"), want: []Edit{e(POAInvalid, Error, "diagnoses[1].poa")}},
		{name: "POA_INVALID 1 on non-exempt", base: stay, change: poa("R50.9", "1"), want: []Edit{e(POAInvalid, Error, "diagnoses[1].poa")}},
		{name: "exempt blank", base: stay, change: poa("Z37.0", "")},
		{name: "exempt 1", base: stay, change: poa("Z37.0", "1")},
		{name: "POA_EXEMPT_IGNORED Y on exempt", base: stay, change: poa("Z37.0", "Y"), want: []Edit{e(POAExemptIgnored, Warning, "diagnoses[1].poa")}},
		{name: "no POA on professional claims", base: office, change: poa("R50.9", "")},
		{name: "no POA outpatient institutional", base: stay, change: func(c *Chart) { c.Class, c.Procedures = "AMB", nil; poa("R50.9", "")(c) }},
	})
}

func TestCheckDemographics(t *testing.T) {
	who := func(sex Sex, y int, code string) func(*Chart) {
		return func(c *Chart) { c.Sex, c.BirthDate = sex, date(y, 6, 1); dx(code)(c) }
	}
	runEditTests(t, []editTest{
		{name: "O80 female 30", base: office, change: who(Female, 1995, "O80")},
		{name: "SEX_CONFLICT O80 male", base: office, change: who(Male, 1995, "O80"), want: []Edit{e(SexConflict, Warning, "diagnoses[0]")}},
		{name: "O80 unknown sex", base: office, change: who(Unknown, 1995, "O80")},
		{name: "MCE_AGE_CONFLICT O80 age 70 (MCE maternity list, not AGE_CONFLICT)", base: office, change: who(Female, 1955, "O80"), want: []Edit{e(MCEAgeConflict, Warning, "diagnoses[0]")}},
		{name: "P59.9 newborn", base: office, change: who(Male, 2025, "P59.9")},
		{name: "AGE_CONFLICT P59.9 adult", base: office, change: who(Male, 1995, "P59.9"), want: []Edit{e(AgeConflict, Warning, "diagnoses[0]")}},
		{name: "C61 male", base: office, change: who(Male, 1950, "C61")},
		{name: "SEX_CONFLICT C61 female", base: office, change: who(Female, 1950, "C61"), want: []Edit{e(SexConflict, Warning, "diagnoses[0]")}},
		{name: "SEX_CONFLICT N40.0 female", base: office, change: who(Female, 1950, "N40.0"), want: []Edit{e(SexConflict, Warning, "diagnoses[0]")}},
	})
}

// TestCoverageNotes: the coverage-note codes are exactly the edits that
// name a rule set not loaded (Covers set); chart findings are not.
func TestCoverageNotes(t *testing.T) {
	for _, tt := range []struct {
		code string
		want bool
	}{
		{CPTUnverified, true}, {NoReleaseForDOS, true},
		{SexConflict, false}, {AgeConflict, false}, {TelehealthModifier, false}, {MUEExceeded, false}, {DxHeader, false},
	} {
		if got := IsCoverageNote(tt.code); got != tt.want {
			t.Errorf("IsCoverageNote(%s) = %v, want %v", tt.code, got, tt.want)
		}
	}
}
