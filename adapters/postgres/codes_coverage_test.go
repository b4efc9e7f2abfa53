package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
	"github.com/codebridge/codebridge/mapping/codes"
	"github.com/codebridge/codebridge/mapping/edits"
)

// TestNoReleaseForFY2027 loads only FY2026 sets (ICD-10-CM, ICD-10-PCS,
// POA-exempt: small synthetic files in the official layouts) and checks a
// 2026-11-15 date of service: no lookup applies FY2026 in place of FY2027
// (ErrNoRelease, though FY2026 holds the codes), the edits say
// NO_RELEASE_FOR_DOS naming FY2027 and `codebridge codes fetch --fy 2027`,
// the coverage report of that day says the same, and search still shows
// the FY2026 codes, saying it is not in force.
func TestNoReleaseForFY2027(t *testing.T) {
	db := pgtest.New(t)
	s := postgres.NewCodeStore(db)
	ctx := context.Background()
	load := func(system codes.System, data []byte) {
		t.Helper()
		rel, err := codes.NewRelease(system, "FY2026")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.LoadRelease(ctx, rel, bytes.NewReader(data), nil); err != nil {
			t.Fatalf("load %s: %v", rel, err)
		}
	}
	load(codes.ICD10CM, orderFile(orderLine{"J20", false, "Acute bronchitis"}, orderLine{"J209", true, "Acute bronchitis, unspecified"},
		orderLine{"B900", true, "Sequelae of central nervous system tuberculosis"}))
	load(codes.ICD10PCS, orderFile(orderLine{"0016070", true, "Bypass Cerebral Ventricle to Nasopharynx with Autologous Tissue Substitute, Open Approach"}))
	load(codes.POAExemptList, []byte("Order26\tPOAexemptCode\tDescription\r\n01238\tB90.0\tSequelae of central nervous system tuberculosis\r\n"))

	fy26, fy27 := ymd(2026, 9, 30), ymd(2026, 11, 15)
	if e, err := s.Code(ctx, codes.ICD10CM, "J20.9", fy26); err != nil || !e.Billable || e.Release.Version != "FY2026" {
		t.Fatalf("J20.9 on %s = %+v, %v; want billable in FY2026", day(fy26), e, err)
	}
	for _, sys := range []struct {
		system codes.System
		code   string
	}{{codes.ICD10CM, "J20.9"}, {codes.ICD10PCS, "0016070"}} {
		if e, err := s.Code(ctx, sys.system, sys.code, fy27); !errors.Is(err, codes.ErrNoRelease) {
			t.Errorf("%s %s on %s = %+v, %v; want ErrNoRelease (FY2026 is never applied to a FY2027 date)", sys.system, sys.code, day(fy27), e, err)
		}
	}
	if _, err := s.POAExempt(ctx, "B90.0", fy27); !errors.Is(err, codes.ErrNoRelease) {
		t.Errorf("POAExempt B90.0 on %s = %v; want ErrNoRelease", day(fy27), err)
	}

	chart := edits.Chart{Sex: edits.Female, BirthDate: ymd(1990, 1, 2), Class: "IMP", ClaimType: edits.Institutional,
		Start: ymd(2026, 11, 13), End: fy27,
		Diagnoses:  []edits.Diagnosis{{Code: "J20.9", POA: "Y"}},
		Procedures: []edits.Procedure{{Code: "0016070"}}}
	got, err := edits.Check(ctx, s, chart)
	if err != nil {
		t.Fatal(err)
	}
	notes := map[codes.System]string{}
	for _, e := range got {
		if e.Code == edits.NoReleaseForDOS {
			notes[e.Covers] = e.Message
		} else if e.Severity == edits.Error {
			t.Errorf("error edit %s on a date no release covers: %s", e.Code, e.Message)
		}
	}
	for _, sys := range []codes.System{codes.ICD10CM, codes.ICD10PCS} {
		want := "it needs " + string(sys) + " FY2027 (2026-10-01..2027-09-30): load it with `codebridge codes fetch --fy 2027`"
		if !strings.HasSuffix(notes[sys], want) || !strings.Contains(notes[sys], "2026-11-15") {
			t.Errorf("NO_RELEASE_FOR_DOS for %s = %q, want it to name the date and end %q", sys, notes[sys], want)
		}
	}

	rels, err := s.ListReleases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var list []codes.Release
	for _, r := range rels {
		list = append(list, r.Release)
	}
	for _, c := range codes.Coverage(list, fy27)[:3] { // icd10cm, icd10pcs, poaexempt
		if c.Covered || c.Missing.Version != "FY2027" || c.Hint != "codebridge codes fetch --fy 2027" {
			t.Errorf("coverage of %s on %s = %+v; want FY2027 missing", c.System, day(fy27), c)
		}
	}

	res, err := s.SearchCodes(ctx, codes.ICD10CM, "J20.9", fy27, 10)
	if err != nil {
		t.Fatal(err)
	}
	if res.InForce || res.Release.Version != "FY2026" || len(res.Hits) == 0 || res.Hits[0].Display != "J20.9" {
		t.Errorf("search J20.9 on %s = %+v; want the FY2026 codes, not in force", day(fy27), res)
	}
	note := codes.SearchNote(codes.ICD10CM, fy27, res.Release)
	if !strings.Contains(note, "icd10cm FY2027 (2026-10-01..2027-09-30)") || !strings.Contains(note, "`codebridge codes fetch --fy 2027`") ||
		!strings.Contains(note, "icd10cm FY2026") {
		t.Errorf("search note %q: want it to name FY2027, its command and the FY2026 release shown", note)
	}
}
