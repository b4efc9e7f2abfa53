package edits

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

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
		{name: "modifiers XU and 25", base: office, change: lines(line("96372", 1, "XU", "25"))},
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
			want: []Edit{note(NoReleaseForDOS, codes.ICD10CM, "diagnoses[0]"), note(NoReleaseForDOS, codes.ICD10CMTabular, "diagnoses"),
				note(CPTUnverified, codes.CPT, "lines[0].code"),
				note(NoReleaseForDOS, codes.MUETable, "lines[0].units")}},
	})
}

// TestCheckNCCI has one row per NCCI rule, a passing and a failing chart
// each, named after the NCCI Policy Manual for Medicare Services chapter
// (ch. I §E PTP modifiers and indicators, ch. I §V MUEs, ch. XI E/M) or the
// CMS MUE rule it implements. The MUE and PTP tables are the hand-made
// extracts in testdata/codesets (97110 MAI 1, 11042 MAI 2, the rest MAI 3;
// A4550 MUE 0).
func TestCheckNCCI(t *testing.T) {
	medicare := func(c *Chart) { c.Medicare = true }
	outpatient := func(c *Chart) { c.Class, c.ClaimType = "OBSENC", Institutional }
	both := func(fs ...func(*Chart)) func(*Chart) {
		return func(c *Chart) {
			for _, f := range fs {
				f(c)
			}
		}
	}
	runEditTests(t, []editTest{
		// MUE, ch. I §V: MAI 1 is a claim line edit.
		{name: "MUE MAI 1 within the line value", base: office, change: lines(line("97110", 4))},
		{name: "MUE MAI 1 split over lines", base: office, change: lines(line("97110", 3), line("97110", 3))},
		{name: "MUE_EXCEEDED MAI 1 line edit", base: office, change: lines(line("97110", 5)), want: []Edit{e(MUEExceeded, Error, "lines[0].units")}},
		// MUE, ch. I §V: MAI 2 is an absolute date-of-service (policy) edit,
		// units summed over the lines of the date.
		{name: "MUE MAI 2 within the value", base: office, change: lines(line("11042", 1))},
		{name: "MUE_EXCEEDED MAI 2 summed over lines", base: office, change: lines(line("11042", 1), line("11042", 1)),
			want: []Edit{e(MUEExceeded, Error, "lines[1].units")}},
		// MUE, ch. I §V: MAI 3 is a clinical date-of-service edit, payable
		// above the value with documentation: a warning for a person.
		{name: "MUE MAI 3 within the value", base: office, change: lines(line("99213", 1), line("99213", 1))},
		{name: "MUE_EXCEEDED_CLINICAL MAI 3 one line", base: office, change: lines(line("80053", 2)),
			want: []Edit{e(MUEExceededClinical, Warning, "lines[0].units")}},
		{name: "MUE_EXCEEDED_CLINICAL MAI 3 summed per day", base: office, change: lines(line("99215", 1), line("99215", 1)),
			want: []Edit{e(MUEExceededClinical, Warning, "lines[1].units")}},
		{name: "MUE MAI 3 per day, other days", base: office, change: func(c *Chart) {
			c.Lines = []Line{line("99215", 1), line("99215", 1)}
			c.Lines[1].ServiceDate = date(2025, 11, 15)
		}},
		// CMS MUE value 0: Medicare does not pay the code for practitioners.
		{name: "MUE_ZERO Medicare payer is an error", base: office, change: both(medicare, lines(line("A4550", 1))),
			want: []Edit{e(MUEZero, Error, "lines[0].code")}},
		{name: "MUE_ZERO other payer is a warning", base: office, change: lines(line("A4550", 1)),
			want: []Edit{e(MUEZero, Warning, "lines[0].code")}},
		{name: "MUE_ZERO once per code and date", base: office, change: lines(line("A4550", 1), line("A4550", 1)),
			want: []Edit{e(MUEZero, Warning, "lines[0].code")}},
		{name: "MUE nonzero for a Medicare payer", base: office, change: both(medicare, lines(line("J1885", 8)))},
		// A partial MUE table (the bundled MAI 3 extract) does not say "no
		// MUE" for a code it lacks: one coverage warning, on the line with
		// the most units.
		{name: "MUE partial table lists every code", base: office, lookup: partialMUE("11042"), change: lines(line("99213", 1), line("36415", 2))},
		{name: "NO_RELEASE_FOR_DOS no MUE table, on the line with most units", base: office, lookup: noMUE,
			change: lines(line("99213", 1), line("36415", 2), line("80053", 2)),
			want:   []Edit{note(NoReleaseForDOS, codes.MUETable, "lines[1].units")}},
		{name: "NO_RELEASE_FOR_DOS MUE partial table", base: office, lookup: partialMUE("80053", "36415"),
			change: lines(line("99213", 1), line("80053", 1), line("36415", 2)),
			want:   []Edit{note(NoReleaseForDOS, codes.MUETable, "lines[2].units")}},

		// PTP, ch. I §E: modifier indicator 0 is never bypassed.
		{name: "NCCI_PTP_NO_MODIFIER_ALLOWED 59 on column 2", base: office, change: lines(line("20610", 1), line("76942", 1, "59")),
			want: []Edit{e(NCCIPTPNoModifier, Error, "lines[1].code")}},
		{name: "NCCI_PTP_NO_MODIFIER_ALLOWED reversed", base: office, change: lines(line("76942", 1), line("20610", 1)),
			want: []Edit{e(NCCIPTPNoModifier, Error, "lines[0].code")}},
		// PTP, ch. I §E: indicator 9 is not an edit; deleted edits neither.
		{name: "PTP indicator 9 is not an edit", base: office, lookup: indicator9, change: lines(line("11042", 1), line("97597", 1))},
		{name: "NCCI_PTP indicator 1 without the stub", base: office, change: lines(line("11042", 1), line("97597", 1)),
			want: []Edit{e(NCCIPTP, Error, "lines[1].modifiers")}},
		{name: "PTP deleted edit", base: office, change: lines(line("99215", 1), line("97110", 1))},
		{name: "PTP other day", base: office, change: func(c *Chart) {
			c.Lines = []Line{line("99213", 1), line("96372", 1)}
			c.Lines[1].ServiceDate = date(2025, 11, 15)
		}},
		// PTP, ch. I §E: 59 and X{EPSU} bypass on the column 2 code only.
		{name: "NCCI_PTP_BYPASSED 59 on column 2", base: office, change: lines(line("11042", 1), line("97597", 1, "59")),
			want: []Edit{bypass("lines[1].modifiers[0]")}},
		{name: "NCCI_PTP_BYPASSED XS on column 2", base: office, change: lines(line("11042", 1), line("97597", 1, "XS")),
			want: []Edit{bypass("lines[1].modifiers[0]")}},
		{name: "NCCI_PTP 59 on column 1 does not bypass", base: office, change: lines(line("11042", 1, "59"), line("97597", 1)),
			want: []Edit{e(NCCIPTP, Error, "lines[1].modifiers")}},
		// PTP, ch. I §E: anatomic modifiers of a different site.
		{name: "NCCI_PTP_BYPASSED LT on column 2", base: office, change: lines(line("11042", 1), line("97597", 1, "LT")),
			want: []Edit{bypass("lines[1].modifiers[0]")}},
		{name: "NCCI_PTP_BYPASSED RT and LT", base: office, change: lines(line("11042", 1, "RT"), line("97597", 1, "LT")),
			want: []Edit{bypass("lines[1].modifiers[0]")}},
		{name: "NCCI_PTP_BYPASSED F1 on column 2", base: office, change: lines(line("11042", 1, "F2"), line("97597", 1, "F1")),
			want: []Edit{bypass("lines[1].modifiers[0]")}},
		{name: "NCCI_PTP same anatomic site on both lines", base: office, change: lines(line("11042", 1, "RT"), line("97597", 1, "RT")),
			want: []Edit{e(NCCIPTP, Error, "lines[1].modifiers")}},
		{name: "NCCI_PTP anatomic modifier on column 1 only", base: office, change: lines(line("11042", 1, "LT"), line("97597", 1)),
			want: []Edit{e(NCCIPTP, Error, "lines[1].modifiers")}},
		// PTP, ch. I §E: global surgery 58, 78, 79 and repeat lab 91 on
		// the column 2 code.
		{name: "NCCI_PTP_BYPASSED 79 on column 2", base: office, change: lines(line("11042", 1), line("97597", 1, "79")),
			want: []Edit{bypass("lines[1].modifiers[0]")}},
		{name: "NCCI_PTP_BYPASSED 91 on column 2", base: office, change: lines(line("80053", 1), line("85025", 1, "91")),
			want: []Edit{bypass("lines[1].modifiers[0]")}},
		{name: "NCCI_PTP 91 on column 1", base: office, change: lines(line("80053", 1, "91"), line("85025", 1)),
			want: []Edit{e(NCCIPTP, Error, "lines[1].modifiers")}},
		// PTP, ch. I §E: 25 (and 57) bypass from the E/M line only.
		{name: "NCCI_PTP_BYPASSED 25 on the E/M in column 2", base: office, change: lines(line("11042", 1), line("99213", 1, "25")),
			want: []Edit{bypass("lines[1].modifiers[0]")}},
		{name: "NCCI_PTP_BYPASSED 57 on the E/M in column 2", base: office, change: lines(line("11042", 1), line("99213", 1, "57")),
			want: []Edit{bypass("lines[1].modifiers[0]")}},
		{name: "NCCI_PTP E/M in column 2 without 25", base: office, change: lines(line("11042", 1), line("99213", 1)),
			want: []Edit{e(NCCIPTP, Error, "lines[1].modifiers")}},
		{name: "NCCI_PTP 25 on the procedure, not the E/M", base: office, change: lines(line("11042", 1, "25"), line("99213", 1)),
			want: []Edit{e(NCCIPTP, Error, "lines[1].modifiers")}},
		{name: "NCCI_PTP two E/Ms, 25 on column 1 only", base: office, lookup: emPair, change: lines(line("99215", 1, "25"), line("99213", 1)),
			want: []Edit{e(NCCIPTP, Error, "lines[1].modifiers")}},
		{name: "NCCI_PTP_BYPASSED two E/Ms, 25 on column 2", base: office, lookup: emPair, change: lines(line("99215", 1), line("99213", 1, "25")),
			want: []Edit{bypass("lines[1].modifiers[0]")}},
		{name: "NCCI_PTP_BYPASSED 25 on the E/M in column 1", base: office, change: lines(line("99213", 1, "25"), line("96372", 1)),
			want: []Edit{bypass("lines[0].modifiers[0]")}},
		{name: "NCCI_PTP_BYPASSED 59 on the procedure in column 2 of an E/M", base: office, change: lines(line("99213", 1), line("96372", 1, "59")),
			want: []Edit{bypass("lines[1].modifiers[0]")}},
		{name: "NCCI_PTP E/M in column 1, no modifier", base: office, change: lines(line("99213", 1), line("96372", 1)),
			want: []Edit{e(NCCIPTP, Error, "lines[1].modifiers")}},
		// ch. XI and CPT: 59/X{EPSU} may not be used with E/M services; on
		// an E/M line it is an error and bypasses nothing.
		{name: "NCCI_59_ON_EM XU on the E/M in column 1", base: office, change: lines(line("99213", 1, "XU"), line("96372", 1)),
			want: []Edit{e(NCCI59OnEM, Error, "lines[0].modifiers[0]"), e(NCCIPTP, Error, "lines[1].modifiers")}},
		{name: "NCCI_59_ON_EM 59 on the E/M in column 2", base: office, change: lines(line("11042", 1), line("99213", 1, "59")),
			want: []Edit{e(NCCI59OnEM, Error, "lines[1].modifiers[0]"), e(NCCIPTP, Error, "lines[1].modifiers")}},
		{name: "NCCI_59_ON_EM alone", base: office, change: lines(line("99214", 1, "25", "xe")),
			want: []Edit{e(NCCI59OnEM, Error, "lines[0].modifiers[1]")}},
		{name: "59 on a procedure alone", base: office, change: lines(line("96372", 1, "59"))},
		// PTP, ch. I §E: a bypass by a modifier sent with the chart is a
		// warning naming the modifier; indicator 0 stays an error and
		// indicator 9 says nothing, whatever the modifier.
		{name: "NCCI_PTP_BYPASSED names the bypassing modifier", base: office, change: lines(line("11042", 1), line("97597", 1, "RT", "59")),
			want: []Edit{bypass("lines[1].modifiers[1]")}},
		{name: "NCCI_PTP_NO_MODIFIER_ALLOWED XU is no bypass", base: office, change: lines(line("20610", 1), line("76942", 1, "XU")),
			want: []Edit{e(NCCIPTPNoModifier, Error, "lines[1].code")}},
		{name: "PTP indicator 9 with 59 says nothing", base: office, lookup: indicator9, change: lines(line("11042", 1), line("97597", 1, "59"))},

		// The loaded tables are practitioner tables: NCCI is not applied to
		// inpatient facility claims (NCCI Policy Manual, Introduction), and
		// outpatient hospital claims take CMS's outpatient hospital tables,
		// which are not loaded: a coverage note where they could apply.
		{name: "837I outpatient MUE 0 of the practitioner table not applied", base: office, change: both(outpatient, medicare, lines(line("A4550", 1)))},
		{name: "837I outpatient NO_RELEASE_FOR_DOS mue above 1 unit", base: office, change: both(outpatient, lines(line("80053", 2))),
			want: []Edit{note(NoReleaseForDOS, codes.MUETable, "lines[0].units")}},
		{name: "837I outpatient NO_RELEASE_FOR_DOS mue summed per day", base: office, change: both(outpatient, lines(line("97110", 1), line("97110", 1))),
			want: []Edit{note(NoReleaseForDOS, codes.MUETable, "lines[1].units")}},
		{name: "837I outpatient NO_RELEASE_FOR_DOS ptp, no bypass warning", base: office,
			change: both(outpatient, lines(line("11042", 1), line("97597", 1, "59"))),
			want:   []Edit{note(NoReleaseForDOS, codes.PTPTable, "lines[1].code")}},
		{name: "837I outpatient ptp pairs on other days", base: office, change: both(outpatient, func(c *Chart) {
			c.Lines = []Line{line("11042", 1), line("97597", 1)}
			c.Lines[1].ServiceDate = date(2025, 11, 15)
		})},
		{name: "837I inpatient no NCCI edit", base: stay, change: lines(line("11042", 1), line("97597", 1), line("80053", 2), line("A4550", 1))},
		{name: "837P the same lines get the practitioner edits", base: office,
			change: lines(line("11042", 1), line("97597", 1), line("80053", 2), line("A4550", 1)),
			want: []Edit{e(MUEZero, Warning, "lines[3].code"), e(MUEExceededClinical, Warning, "lines[2].units"),
				e(NCCIPTP, Error, "lines[1].modifiers")}},
	})
}

// bypass is the NCCI_PTP_BYPASSED warning on the modifier at target.
func bypass(target string) Edit { return e(NCCIPTPBypassed, Warning, target) }

// partialMUE answers codes.ErrMUEPartial for the MUE of the given codes,
// as a partial MUE table that does not list them would.
func partialMUE(missing ...string) func(codes.Lookup) codes.Lookup {
	return func(l codes.Lookup) codes.Lookup { return partialMUELookup{l, missing} }
}

type partialMUELookup struct {
	codes.Lookup
	missing []string
}

func (p partialMUELookup) MUE(ctx context.Context, code string, dos time.Time) (codes.MUE, error) {
	if slices.Contains(p.missing, code) {
		return codes.MUE{}, fmt.Errorf("mue %s: %w", code, codes.ErrMUEPartial)
	}
	return p.Lookup.MUE(ctx, code, dos)
}

// emPair adds a modifier-indicator-1 edit 99215/99213 (illustrative: two
// E/M codes of one date).
func emPair(l codes.Lookup) codes.Lookup { return emPairLookup{l} }

type emPairLookup struct{ codes.Lookup }

func (l emPairLookup) PTP(ctx context.Context, c1, c2 string, dos time.Time) (codes.PTP, error) {
	if c1 == "99215" && c2 == "99213" {
		return codes.PTP{Column1: c1, Column2: c2, Effective: date(2020, 1, 1), Modifier: 1}, nil
	}
	return l.Lookup.PTP(ctx, c1, c2, dos)
}

// noMUE has no MUE release for any date.
func noMUE(l codes.Lookup) codes.Lookup { return noMUELookup{l} }

type noMUELookup struct{ codes.Lookup }

func (noMUELookup) MUE(_ context.Context, code string, _ time.Time) (codes.MUE, error) {
	return codes.MUE{}, fmt.Errorf("mue %s: %w", code, codes.ErrNoRelease)
}

// indicator9 answers every PTP edit found with modifier indicator 9 (not
// applicable), as a table row not filtered by PTP.Active would.
func indicator9(l codes.Lookup) codes.Lookup { return indicator9Lookup{l} }

type indicator9Lookup struct{ codes.Lookup }

func (l indicator9Lookup) PTP(ctx context.Context, c1, c2 string, dos time.Time) (codes.PTP, error) {
	p, err := l.Lookup.PTP(ctx, c1, c2, dos)
	p.Modifier = 9
	return p, err
}

func TestCheckLookupFailure(t *testing.T) {
	got, err := Check(context.Background(), failing{testCatalog(t)}, office())
	if err == nil || got != nil {
		t.Errorf("Check with a failing lookup = %v, %v; want nil and an error", got, err)
	}
}
