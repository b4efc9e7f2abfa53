package edits

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/codebridge/codebridge/mapping/codes"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// Hand-made releases for the date-of-service rules (test content, not CMS
// data): J20.9 is in both fiscal years, B88.01 is added in FY2026, A00.0
// is deleted in FY2026. The HCPCS quarters hold J1885 (ADD DT 1995), J0001
// (added 2025-10-01, only in the October file) and A4397 (TERM DT
// 2024-12-31).
const (
	hcpcsHeader = "HCPC,SEQNUM,RECID,LONG DESCRIPTION,SHORT DESCRIPTION,ADD DT,ACT EFF DT,TERM DT,ACTION CD\n"
	hcpcsJ1885  = "J1885,0010,3,Injection test drug,Inj test drug,19950101,19950101,,N\n"
	hcpcsA4397  = "A4397,0010,3,Irrigation supply test,Irrigation supply,19900101,20250101,20241231,D\n"
	hcpcsJ0001  = "J0001,0010,3,New test drug,New test drug,20251001,20251001,,A\n"
)

func order(codes ...string) string {
	var b strings.Builder
	for i, c := range codes {
		title := "Test title " + c
		fmt.Fprintf(&b, "%05d %-7s 1 %-60s %s\n", i+1, c, title, title)
	}
	return b.String()
}

// dosCatalog loads the named hand-made releases.
func dosCatalog(tb testing.TB, names ...string) codes.Lookup {
	tb.Helper()
	files := map[string]struct {
		sys     codes.System
		version string
		body    string
	}{
		"cm25":  {codes.ICD10CM, "FY2025", order("J209", "A000")},
		"cm26":  {codes.ICD10CM, "FY2026", order("J209", "B8801")},
		"hcJul": {codes.HCPCS, "2025-Jul", hcpcsHeader + hcpcsJ1885 + hcpcsA4397},
		"hcOct": {codes.HCPCS, "2025-Oct", hcpcsHeader + hcpcsJ1885 + hcpcsA4397 + hcpcsJ0001},
	}
	c := codes.NewCatalog()
	for _, n := range names {
		f := files[n]
		rel, err := codes.NewRelease(f.sys, f.version)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := c.Load(rel, strings.NewReader(f.body)); err != nil {
			tb.Fatalf("%s: %v", n, err)
		}
	}
	return settled{c}
}

// settled answers the MUE, PTP, POA-exempt and MCE tables and the Tabular
// List as loaded with nothing that applies, so that the rows show only the
// date rules.
type settled struct{ codes.Lookup }

func (settled) MUE(context.Context, string, time.Time) (codes.MUE, error) {
	return codes.MUE{}, codes.ErrNotFound
}

func (settled) PTP(context.Context, string, string, time.Time) (codes.PTP, error) {
	return codes.PTP{}, codes.ErrNotFound
}

func (settled) POAExempt(context.Context, string, time.Time) (bool, error) { return false, nil }

func (settled) Tabular(context.Context, string, time.Time) (codes.TabularInstructions, error) {
	return codes.TabularInstructions{}, codes.ErrNotFound
}

func (settled) MCE(context.Context, string, time.Time) (codes.MCEFacts, error) {
	return codes.MCEFacts{}, nil
}

// TestCheckDatesOfService pins which date chooses the release (Medicare
// Claims Processing Manual, Pub. 100-04, ch. 23, sec. 10.2: codes by date
// of service, "including, when applicable, the date of discharge"; each
// professional line by its own date, CMS-1500 item 24A) and the code
// lifetime across releases (CODE_NOT_YET_VALID, CODE_DELETED). Each rule
// has a row that passes and one that fails.
func TestCheckDatesOfService(t *testing.T) {
	both := []string{"cm25", "cm26", "hcJul", "hcOct"}
	visit := func(d time.Time, dxs ...string) Chart {
		c := Chart{Class: "AMB", ClaimType: Professional, Start: d}
		for _, x := range dxs {
			c.Diagnoses = append(c.Diagnoses, Diagnosis{Code: x})
		}
		return c
	}
	stay := func(end time.Time, dx string) Chart {
		return Chart{Class: "IMP", ClaimType: Institutional, Start: date(2025, 9, 28), End: end,
			Diagnoses: []Diagnosis{{Code: dx, POA: "Y"}}}
	}
	withLines := func(c Chart, ls ...Line) Chart { c.Lines = ls; return c }
	hcLine := func(code string, d time.Time, dx int) Line {
		return Line{Code: code, Units: 1, Diagnoses: []int{dx}, ServiceDate: d}
	}
	noRel := func(target string) Edit { // the release of the code system the target is in
		if strings.HasPrefix(target, "lines") {
			return note(NoReleaseForDOS, codes.HCPCS, target)
		}
		return note(NoReleaseForDOS, codes.ICD10CM, target)
	}
	tests := []struct {
		name  string
		sets  []string
		chart Chart
		want  []Edit
	}{
		// Inpatient stays take their release by discharge date.
		{"inpatient 09-28..10-02: B88.01 valid on the discharge date", both, stay(date(2025, 10, 2), "B88.01"), nil},
		{"inpatient 09-28..10-02: A00.0 deleted by the discharge date", both, stay(date(2025, 10, 2), "A00.0"),
			[]Edit{e(CodeDeleted, Error, "diagnoses[0]")}},
		{"inpatient without discharge date: admission date, NO_DISCHARGE_DATE", both, stay(time.Time{}, "B88.01"),
			[]Edit{e(NoDischargeDate, Warning, "encounter.end"), e(CodeNotYetValid, Error, "diagnoses[0]")}},
		{"professional chart of the same days: the start date", both,
			func() Chart { c := stay(date(2025, 10, 2), "B88.01"); c.ClaimType = Professional; return c }(),
			[]Edit{e(CodeNotYetValid, Error, "diagnoses[0]")}},
		// Professional lines by their own dates.
		{"professional lines: each diagnosis valid on its line's date", both,
			withLines(visit(date(2025, 9, 30), "J20.9", "B88.01"), hcLine("J1885", date(2025, 9, 30), 1), hcLine("J1885", date(2025, 10, 1), 2)), nil},
		{"professional lines: B88.01 on a 09-30 line", both,
			withLines(visit(date(2025, 9, 30), "J20.9", "B88.01"), hcLine("J1885", date(2025, 9, 30), 1), hcLine("J1885", date(2025, 9, 30), 2)),
			[]Edit{e(CodeNotYetValid, Error, "diagnoses[1]")}},
		{"professional lines: J0001 on the 10-01 line", both,
			withLines(visit(date(2025, 9, 30), "J20.9"), hcLine("J0001", date(2025, 10, 1), 1)), nil},
		{"professional lines: J0001 on the 09-30 line", both,
			withLines(visit(date(2025, 9, 30), "J20.9"), hcLine("J0001", date(2025, 9, 30), 1)),
			[]Edit{e(CodeNotYetValid, Error, "lines[0].code")}},
		// Added later: an error on an earlier date, with or without its release.
		{"B88.01 on 10-01", both, visit(date(2025, 10, 1), "B88.01"), nil},
		{"CODE_NOT_YET_VALID B88.01 on 09-30 (FY2025 loaded)", both, visit(date(2025, 9, 30), "B88.01"),
			[]Edit{e(CodeNotYetValid, Error, "diagnoses[0]")}},
		{"J20.9 with no release for 2024", both, visit(date(2024, 3, 1), "J20.9"), []Edit{noRel("diagnoses[0]")}},
		{"CODE_NOT_YET_VALID B88.01 with no release for 2024", both, visit(date(2024, 3, 1), "B88.01"),
			[]Edit{noRel("diagnoses[0]"), e(CodeNotYetValid, Error, "diagnoses[0]")}},
		{"only FY2026 loaded: B88.01 in FY2025 cannot be told", []string{"cm26"}, visit(date(2025, 6, 1), "B88.01"),
			[]Edit{noRel("diagnoses[0]")}},
		{"only a later HCPCS release loaded: J1885", []string{"cm25", "hcOct"},
			withLines(visit(date(2025, 6, 1), "J20.9"), hcLine("J1885", time.Time{}, 1)), []Edit{noRel("lines[0].code")}},
		{"only a later HCPCS release loaded: CODE_NOT_YET_VALID J0001", []string{"cm25", "hcOct"},
			withLines(visit(date(2025, 6, 1), "J20.9"), hcLine("J0001", time.Time{}, 1)),
			[]Edit{noRel("lines[0].code"), e(CodeNotYetValid, Error, "lines[0].code")}},
		// Deleted: an error after the deletion, with or without its release.
		{"A00.0 before its deletion", both, visit(date(2025, 9, 30), "A00.0"), nil},
		{"CODE_DELETED A00.0 after its deletion", both, visit(date(2025, 10, 1), "A00.0"), []Edit{e(CodeDeleted, Error, "diagnoses[0]")}},
		{"CODE_DELETED A00.0 with no release for 2027", both, visit(date(2027, 2, 1), "A00.0"),
			[]Edit{noRel("diagnoses[0]"), e(CodeDeleted, Error, "diagnoses[0]")}},
		{"A4397 before its termination", both, withLines(visit(date(2024, 12, 31), "J20.9"), hcLine("A4397", time.Time{}, 1)),
			[]Edit{noRel("lines[0].code")}},
		{"CODE_DELETED A4397 after its TERM DT", both, withLines(visit(date(2025, 10, 1), "J20.9"), hcLine("A4397", time.Time{}, 1)),
			[]Edit{e(CodeDeleted, Error, "lines[0].code")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Check(context.Background(), dosCatalog(t, tt.sets...), tt.chart)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreFields(Edit{}, "Message")); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
			for _, ed := range got {
				if (ed.Code == CodeNotYetValid || ed.Code == CodeDeleted) && !strings.Contains(ed.Message, "sec. 10.2") {
					t.Errorf("%s message %q does not cite its source", ed.Code, ed.Message)
				}
			}
		})
	}
}
