package edits

import (
	"context"
	"testing"

	"github.com/codebridge/codebridge/mapping/codes"
)

func TestCheckLines(t *testing.T) {
	hideCPT := func(l codes.Lookup) codes.Lookup { return noCPT{l} }
	runEditTests(t, []editTest{
		{name: "CPT_UNVERIFIED", base: office, lookup: hideCPT, want: []Edit{note(CPTUnverified, codes.CPT, "lines[0].code")}},
		{name: "CPT_UNKNOWN", base: office, change: lines(line("99499", 1)), want: []Edit{e(CPTUnknown, Error, "lines[0].code")}},
		{name: "CPT_FORMAT", base: office, change: lines(line("9921", 1)), want: []Edit{e(CPTFormat, Error, "lines[0].code")}},
		{name: "HCPCS J1885", base: office, change: lines(line("J1885", 1))},
		{name: "HCPCS_UNKNOWN", base: office, change: lines(line("Z9999", 1)), want: []Edit{e(HCPCSUnknown, Error, "lines[0].code")}},
		{name: "CODE_DELETED terminated HCPCS (was PX_NOT_VALID_ON_DOS)", base: office, change: lines(line("A4397", 1)),
			want: []Edit{e(CodeDeleted, Error, "lines[0].code")}},
		{name: "DX_IS_PROCEDURE line", base: office, change: lines(line("J20.9", 1)), want: []Edit{e(DxIsProcedure, Error, "lines[0].code")}},
		{name: "modifiers XU and 25", base: office, change: lines(line("99213", 1, "XU", "25"))},
		{name: "MODIFIER_INVALID unknown", base: office, change: lines(line("99213", 1, "QQ")),
			want: []Edit{e(ModifierInvalid, Error, "lines[0].modifiers[0]")}},
		{name: "MODIFIER_INVALID format", base: office, change: lines(line("99213", 1, "5")),
			want: []Edit{e(ModifierInvalid, Error, "lines[0].modifiers[0]")}},
		{name: "UNITS_INVALID", base: office, change: lines(line("99213", 0)), want: []Edit{e(UnitsInvalid, Error, "lines[0].units")}},
		{name: "LINE_NO_POINTER", base: office, change: lines(Line{Code: "99213", Units: 1}),
			want: []Edit{e(LineNoPointer, Error, "lines[0].diagnoses")}},
		{name: "LINE_POINTER_RANGE", base: office, change: lines(Line{Code: "99213", Units: 1, Diagnoses: []int{2}}),
			want: []Edit{e(LinePointerRange, Error, "lines[0].diagnoses[0]")}},
		{name: "four pointers", base: office, change: func(c *Chart) {
			dx("J20.9", "R50.9", "I10", "E11.9")(c)
			c.Lines = []Line{{Code: "99213", Units: 1, Diagnoses: []int{1, 2, 3, 4}}}
		}},
		{name: "LINE_TOO_MANY_POINTERS", base: office, change: func(c *Chart) {
			dx("J20.9", "R50.9", "I10", "E11.9", "K21.9")(c)
			c.Lines = []Line{{Code: "99213", Units: 1, Diagnoses: []int{1, 2, 3, 4, 5}}}
		}, want: []Edit{e(LineTooManyPointer, Error, "lines[0].diagnoses")}},
		{name: "no pointers on institutional lines", base: stay, change: lines(Line{Code: "99213", Units: 1})},
		{name: "TELEHEALTH_MODIFIER", base: office, change: func(c *Chart) { c.Class = "VR" },
			want: []Edit{e(TelehealthModifier, Warning, "lines[0].modifiers")}},
		{name: "telehealth 95", base: office, change: func(c *Chart) { c.Class = "VR"; c.Lines[0].Modifiers = []string{"95"} }},
		{name: "telehealth POS 10", base: office, change: func(c *Chart) { c.Class = "VR"; c.Lines[0].PlaceOfService = "10" }},
		{name: "PX_HEADER", base: stay, change: func(c *Chart) { c.Procedures = []Procedure{{Code: "001"}} },
			want: []Edit{e(PxHeader, Error, "procedures[0]")}},
		{name: "PX_UNKNOWN", base: stay, change: func(c *Chart) { c.Procedures = []Procedure{{Code: "0016ZZZ"}} },
			want: []Edit{e(PxUnknown, Error, "procedures[0]")}},
		{name: "DX_IS_PROCEDURE PCS", base: stay, change: func(c *Chart) { c.Procedures = []Procedure{{Code: "J20.9"}} },
			want: []Edit{e(DxIsProcedure, Error, "procedures[0]")}},
		{name: "NO_RELEASE_FOR_DOS", base: office, change: func(c *Chart) { c.Start = date(2024, 6, 1) },
			want: []Edit{note(NoReleaseForDOS, codes.ICD10CM, "diagnoses[0]"), note(CPTUnverified, codes.CPT, "lines[0].code"),
				note(NoReleaseForDOS, codes.MUETable, "lines[0].units")}},
	})
}

func TestCheckNCCI(t *testing.T) {
	runEditTests(t, []editTest{
		{name: "80053 one unit", base: office, change: lines(line("80053", 1))},
		{name: "MUE_EXCEEDED line", base: office, change: lines(line("80053", 2)), want: []Edit{e(MUEExceeded, Error, "lines[0].units")}},
		{name: "99213 twice within MUE 2", base: office, change: lines(line("99213", 1), line("99213", 1))},
		{name: "MUE_EXCEEDED per day", base: office, change: lines(line("99215", 1), line("99215", 1)),
			want: []Edit{e(MUEExceeded, Error, "lines[1].units")}},
		{name: "MUE per day, other days", base: office, change: func(c *Chart) {
			c.Lines = []Line{line("99215", 1), line("99215", 1)}
			c.Lines[1].ServiceDate = date(2025, 11, 15)
		}},
		{name: "MUE line edit split", base: office, change: lines(line("97110", 3), line("97110", 3))},
		{name: "MUE_EXCEEDED line edit", base: office, change: lines(line("97110", 5)), want: []Edit{e(MUEExceeded, Error, "lines[0].units")}},
		{name: "NCCI_PTP", base: office, change: lines(line("99213", 1), line("96372", 1)),
			want: []Edit{e(NCCIPTP, Error, "lines[1].modifiers")}},
		{name: "PTP bypass 59", base: office, change: lines(line("99213", 1), line("96372", 1, "59"))},
		{name: "PTP bypass XU on column 1", base: office, change: lines(line("99213", 1, "XU"), line("96372", 1))},
		{name: "PTP other day", base: office, change: func(c *Chart) {
			c.Lines = []Line{line("99213", 1), line("96372", 1)}
			c.Lines[1].ServiceDate = date(2025, 11, 15)
		}},
		{name: "NCCI_PTP_NO_MODIFIER_ALLOWED", base: office, change: lines(line("20610", 1), line("76942", 1, "59")),
			want: []Edit{e(NCCIPTPNoModifier, Error, "lines[1].code")}},
		{name: "NCCI_PTP_NO_MODIFIER_ALLOWED reversed", base: office, change: lines(line("76942", 1), line("20610", 1)),
			want: []Edit{e(NCCIPTPNoModifier, Error, "lines[0].code")}},
		{name: "PTP deleted edit", base: office, change: lines(line("99215", 1), line("97110", 1))},
	})
}

func TestCheckLookupFailure(t *testing.T) {
	got, err := Check(context.Background(), failing{testCatalog(t)}, office())
	if err == nil || got != nil {
		t.Errorf("Check with a failing lookup = %v, %v; want nil and an error", got, err)
	}
}
