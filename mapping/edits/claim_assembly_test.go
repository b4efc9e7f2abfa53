package edits

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/codebridge/codebridge/mapping/codes"
)

// twentySixDx are 26 billable FY2026 ICD-10-CM codes, none POA-exempt and
// none with a sex or age rule.
var twentySixDx = []string{"J20.9", "R50.9", "I10", "E11.9", "R06.00", "K21.9", "J02.9", "E78.5", "F41.9",
	"G47.00", "N39.0", "A00.0", "J45.909", "M54.50", "R51.9", "E03.9", "D64.9", "K59.00", "R11.2", "J18.9",
	"N18.30", "E87.1", "I48.91", "R42", "L03.90", "M79.10"}

// TestClaimAssemblyEdits has one passing and one failing row per claim
// assembly rule of issue #17, each naming its source.
func TestClaimAssemblyEdits(t *testing.T) {
	hideCPT := func(l codes.Lookup) codes.Lookup { return noCPT{l} }
	pcs := func(c *Chart) { c.Procedures = []Procedure{{Code: "0016070"}} }
	vr := func(ls ...Line) func(*Chart) {
		return func(c *Chart) { c.Class = "VR"; c.Lines = ls }
	}
	runEditTests(t, []editTest{
		// ICD-10-PCS on inpatient institutional claims only (45 CFR 162.1002(c)(3)).
		{name: "45 CFR 162.1002 PCS on an inpatient institutional claim", base: stay},
		{name: "45 CFR 162.1002 PX_NOT_INPATIENT outpatient institutional (EMER)", base: stay,
			change: func(c *Chart) { c.Class = "EMER" },
			want:   []Edit{e(PxNotInpatient, Error, "procedures[0]")}},
		{name: "45 CFR 162.1002 PX_NOT_INPATIENT professional", base: office, change: pcs,
			want: []Edit{e(PxNotInpatient, Error, "procedures[0]")}},
		{name: "45 CFR 162.1002 PX_NOT_INPATIENT inpatient class billed professional", base: stay,
			change: func(c *Chart) { c.Class, c.ClaimType = "NONAC", Professional },
			want:   []Edit{e(PxNotInpatient, Error, "procedures[0]")}},

		// 837I: principal + 24 other diagnoses; 837P: 12.
		{name: "837I 25 diagnoses", base: stay, change: dx(twentySixDx[:25]...)},
		{name: "837I INST_TOO_MANY_DX 26 diagnoses", base: stay, change: dx(twentySixDx...),
			want: []Edit{e(InstTooManyDx, Error, "diagnoses[25]")}},
		{name: "837I outpatient institutional 25 diagnoses", base: office,
			change: func(c *Chart) { c.Class, c.ClaimType = "EMER", Institutional; dx(twentySixDx[:25]...)(c) }},
		{name: "837I INST_TOO_MANY_DX outpatient institutional", base: office,
			change: func(c *Chart) { c.Class, c.ClaimType = "EMER", Institutional; dx(twentySixDx...)(c) },
			want:   []Edit{e(InstTooManyDx, Error, "diagnoses[25]")}},
		{name: "837P 12 diagnoses", base: office, change: dx(twentySixDx[:12]...)},
		{name: "837P PROF_TOO_MANY_DX 13 diagnoses", base: office, change: dx(twentySixDx[:13]...),
			want: []Edit{e(ProfTooManyDx, Error, "diagnoses[12]")}},

		// POA-exempt codes: POA left blank (ICD-10-CM Official Guidelines, Appendix I).
		{name: "Appendix I exempt code, POA blank", base: stay,
			change: func(c *Chart) { c.Diagnoses = append(c.Diagnoses, Diagnosis{Code: "Z37.0"}) }},
		{name: "Appendix I POA_EXEMPT_IGNORED Y on an exempt code", base: stay,
			change: func(c *Chart) { c.Diagnoses = append(c.Diagnoses, Diagnosis{Code: "Z37.0", POA: "Y"}) },
			want:   []Edit{e(POAExemptIgnored, Warning, "diagnoses[1].poa")}},

		// Telehealth modifiers (CPT Appendix P/T; CMS CY2024 PFS POS 02/10).
		{name: "CPT App. T audio-only 93 on a VR line", base: office, change: vr(line("99213", 1, "93"))},
		{name: "CPT App. P/T TELEHEALTH_MODIFIER_CONFLICT 95 with 93", base: office, change: vr(line("99213", 1, "95", "93")),
			want: []Edit{e(TelehealthModifierConflict, Error, "lines[0].modifiers")}},
		{name: "HCPCS FQ audio-only on a VR line", base: office, change: vr(line("99213", 1, "FQ"))},
		{name: "HCPCS TELEHEALTH_MODIFIER_CONFLICT 95 with FQ", base: office, change: vr(line("99213", 1, "FQ", "95")),
			want: []Edit{e(TelehealthModifierConflict, Error, "lines[0].modifiers")}},
		{name: "HCPCS GT on a VR line", base: office, change: vr(line("99213", 1, "GT"))},
		{name: "HCPCS FR on a VR line", base: office, change: vr(line("99213", 1, "FR"))},
		{name: "CPT 2025 98016 on a VR line needs no modifier", base: office, lookup: hideCPT, change: vr(line("98016", 1)),
			want: []Edit{note(CPTUnverified, codes.CPT, "lines[0].code")}},
		{name: "CPT 2025 TELEHEALTH_MODIFIER_CONFLICT 95 on 98016", base: office, lookup: hideCPT,
			change: vr(line("98016", 1, "95")),
			want:   []Edit{note(CPTUnverified, codes.CPT, "lines[0].code"), e(TelehealthModifierConflict, Warning, "lines[0].modifiers")}},
		{name: "CY2024 PFS TELEHEALTH_MODIFIER POS 11 on a VR line", base: office,
			change: func(c *Chart) { vr(line("99213", 1))(c); c.Lines[0].PlaceOfService = "11" },
			want:   []Edit{e(TelehealthModifier, Warning, "lines[0].modifiers")}},
	})
}

// TestAdd95 pins when the Claim appends modifier 95 (CPT Appendix P:
// synchronous audio-video) to a line.
func TestAdd95(t *testing.T) {
	l := func(code, pos string, mods ...string) Line {
		return Line{Code: code, PlaceOfService: pos, Modifiers: mods}
	}
	for _, tt := range []struct {
		name  string
		class string
		line  Line
		want  bool
	}{
		{"App. P audio-video VR line, no POS given", "VR", l("99213", ""), true},
		{"CY2024 PFS POS 02 from the coder", "VR", l("99213", "02"), true},
		{"CY2024 PFS POS 10 from the coder", "VR", l("99213", "10"), true},
		{"App. P new patient 99202", "VR", l("99202", ""), true},
		{"App. P 99215", "VR", l("99215", ""), true},
		{"99211 is not on App. P", "VR", l("99211", ""), false},
		{"App. P psychiatric evaluation 90791", "VR", l("90791", ""), true},
		{"App. P psychotherapy 90838", "VR", l("90838", ""), true},
		{"App. P family psychotherapy 90847", "VR", l("90847", ""), true},
		{"90839 crisis psychotherapy not in the table", "VR", l("90839", ""), false},
		{"HCPCS G0438 not in the table", "VR", l("G0438", ""), false},
		{"e-visit 99421 (online, not audio-video)", "VR", l("99421", ""), false},
		{"virtual check-in G2012", "VR", l("G2012", ""), false},
		{"remote monitoring 99454", "VR", l("99454", ""), false},
		{"drug J1885", "VR", l("J1885", ""), false},
		{"lower-case modifiers are read", "VR", l("99213", "", "rt"), true},
		{"not a virtual encounter", "AMB", l("99213", ""), false},
		{"CY2024 PFS coder's POS 11: no 95 (PHE convention ended 2023-12-31)", "VR", l("99213", "11"), false},
		{"95 already", "VR", l("99213", "", "95"), false},
		{"App. T audio-only 93", "VR", l("99213", "", "93"), false},
		{"HCPCS FQ audio-only", "VR", l("99213", "", "fq"), false},
		{"HCPCS GT", "VR", l("99213", "", "GT"), false},
		{"HCPCS GQ asynchronous", "VR", l("99213", "", "GQ"), false},
		{"HCPCS FR", "VR", l("99213", "", "FR"), false},
		{"CPT 2025 98000 telehealth by definition", "VR", l("98000", ""), false},
		{"CPT 2025 98016 telehealth by definition", "VR", l("98016", ""), false},
		{"97999 unlisted, not on App. P", "VR", l("97999", ""), false},
		{"not a CPT/HCPCS code", "VR", l("J20.9", ""), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := Add95(tt.class, tt.line); got != tt.want {
				t.Errorf("Add95(%s, %+v) = %v, want %v", tt.class, tt.line, got, tt.want)
			}
		})
	}
}

// TestPOAExemptCodes pins which codes the Claim leaves without a POA.
func TestPOAExemptCodes(t *testing.T) {
	withDx := func(c Chart) Chart {
		c.Diagnoses = []Diagnosis{{Code: "J20.9", POA: "Y"}, {Code: "Z37.0", POA: "Y"}, {Code: "B900", POA: "N"}, {Code: ""}}
		return c
	}
	old := withDx(stay()) // a 2020 stay: the list is chosen by discharge date
	old.Start, old.End = date(2020, 1, 1), date(2020, 1, 3)
	emer := withDx(stay())
	emer.Class = "EMER"
	for _, tt := range []struct {
		name string
		c    Chart
		want map[string]bool
	}{
		{"Appendix I: exempt codes of an inpatient claim", withDx(stay()), map[string]bool{"Z370": true, "B900": true}},
		{"no POA on an outpatient institutional claim", emer, nil},
		{"no POA on a professional claim", withDx(office()), nil},
		{"no list loaded for the date: POA kept as coded", old, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := POAExemptCodes(context.Background(), testCatalog(t), tt.c)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := POAExemptCodes(context.Background(), failingPOA{testCatalog(t)}, withDx(stay())); err == nil {
		t.Error("POAExemptCodes with a failing lookup: nil error")
	}
}

// failingPOA fails POA-exempt lookups, as a broken database would.
type failingPOA struct{ codes.Lookup }

func (failingPOA) POAExempt(context.Context, string, time.Time) (bool, error) {
	return false, errors.New("connection refused")
}
