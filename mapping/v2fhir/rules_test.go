package v2fhir_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping/v2fhir"
)

// message builds a small message: MSH-9 typ^trig, then the given segments
// after MSH, each a list of fields where index i is field i+1 (so fields
// can be set by number with set).
func message(typ, trig, version string, segs ...string) []byte {
	msh := fmt.Sprintf("MSH|^~\\&|ADTSYS|CBHOSP|CODEBRIDGE|CBFAC|20250317114500-0500||%s^%s|CTRL1|P|%s", typ, trig, version)
	return []byte(strings.Join(append([]string{msh}, segs...), "\r") + "\r")
}

// seg builds segment name with fields by number: seg("PV1", 2, "I", 19, "V1").
func seg(name string, fields ...any) string {
	vals := map[int]string{}
	maxN := 0
	for i := 0; i+1 < len(fields); i += 2 {
		n := fields[i].(int)
		vals[n] = fields[i+1].(string)
		maxN = max(maxN, n)
	}
	parts := []string{name}
	for n := 1; n <= maxN; n++ {
		parts = append(parts, vals[n])
	}
	return strings.Join(parts, "|")
}

const (
	pidSeg = "PID|1||MRN1^^^CBHOSP^MR||DOE^JO||19800215|F"
	admit  = "20250314083000-0500"
	disch  = "20250317114500-0500"
	admitF = "2025-03-14T08:30:00-05:00"
	dischF = "2025-03-17T11:45:00-05:00"
)

// visit is an ADT/DFT message of one visit with PV1-2 class and PV1-44/45.
func visit(typ, trig, class, start, end string, extra ...string) []byte {
	pv1 := seg("PV1", 1, "1", 2, class, 19, "V1^^^CBHOSP^VN", 44, start, 45, end)
	return message(typ, trig, "2.5.1", append([]string{seg("EVN", 1, trig, 2, "20250320000000-0500", 6, "20250318100000-0500"), pidSeg, pv1}, extra...)...)
}

// encounterOf maps raw with prior and returns the Bundle's Encounter.
func encounterOf(tb testing.TB, raw []byte, prior *v2fhir.Prior) fhir.Encounter {
	tb.Helper()
	res, err := v2fhir.Map(parse(tb, raw), opts, prior)
	if err != nil {
		tb.Fatalf("Map: %v", err)
	}
	for _, w := range plan(tb, res.Bundle) {
		if w.Type == "Encounter" {
			var e fhir.Encounter
			if err := json.Unmarshal(w.Summary, &e); err != nil {
				tb.Fatal(err)
			}
			return e
		}
	}
	tb.Fatal("no Encounter in the Bundle")
	return fhir.Encounter{}
}

func TestStatusRules(t *testing.T) {
	zone := time.FixedZone("-05:00", -5*3600)
	s := time.Date(2025, 3, 14, 8, 30, 0, 0, zone)
	e := time.Date(2025, 3, 17, 11, 45, 0, 0, zone)
	prior := func(status string, end time.Time) *v2fhir.Prior {
		return &v2fhir.Prior{Status: status, Start: s, End: end}
	}
	type want struct{ Status, Start, End string }
	tests := []struct {
		name       string
		typ, trig  string
		class      string
		start, end string // PV1-44, PV1-45
		prior      *v2fhir.Prior
		want       want
	}{
		{"admit", "ADT", "A01", "I", admit, "", nil, want{"in-progress", admitF, ""}},
		{"admit already discharged", "ADT", "A01", "I", admit, disch, nil, want{"finished", admitF, dischF}},
		{"register outpatient", "ADT", "A04", "O", admit, "", nil, want{"in-progress", admitF, ""}},
		{"pre-admit", "ADT", "A01", "P", admit, "", nil, want{"planned", admitF, ""}},
		{"class unknown", "ADT", "A08", "U", admit, "", nil, want{"unknown", admitF, ""}},
		{"discharge", "ADT", "A03", "I", admit, disch, prior("in-progress", time.Time{}), want{"finished", admitF, dischF}},
		{"discharge before admit", "ADT", "A03", "I", admit, disch, nil, want{"finished", admitF, dischF}},
		{"discharge keeps the prior admit time", "ADT", "A03", "I", "", disch, prior("in-progress", time.Time{}), want{"finished", admitF, dischF}},
		{"discharge without PV1-45 takes EVN-6", "ADT", "A03", "I", admit, "", nil, want{"finished", admitF, "2025-03-18T10:00:00-05:00"}},
		{"late admit does not reopen", "ADT", "A01", "I", admit, "", prior("finished", e), want{"finished", admitF, dischF}},
		{"late update does not reopen", "ADT", "A08", "I", admit, "", prior("finished", e), want{"finished", admitF, dischF}},
		{"late register does not reopen", "ADT", "A04", "I", admit, "", prior("finished", e), want{"finished", admitF, dischF}},
		{"update corrects the discharge time", "ADT", "A08", "I", admit, "20250317120000-0500", prior("finished", e), want{"finished", admitF, "2025-03-17T12:00:00-05:00"}},
		{"cancel discharge reopens", "ADT", "A13", "I", admit, disch, prior("finished", e), want{"in-progress", admitF, ""}},
		{"cancel admit", "ADT", "A11", "I", admit, "", prior("in-progress", time.Time{}), want{"cancelled", admitF, ""}},
		{"cancel admit first", "ADT", "A11", "I", admit, "", nil, want{"cancelled", admitF, ""}},
		{"cancelled stays on admit", "ADT", "A01", "I", admit, "", prior("cancelled", time.Time{}), want{"cancelled", admitF, ""}},
		{"cancelled stays on discharge", "ADT", "A03", "I", admit, disch, prior("cancelled", time.Time{}), want{"cancelled", admitF, dischF}},
		{"cancelled stays on cancel discharge", "ADT", "A13", "I", admit, "", prior("cancelled", time.Time{}), want{"cancelled", admitF, ""}},
		{"entered in error stays", "ADT", "A08", "I", admit, "", prior("entered-in-error", time.Time{}), want{"entered-in-error", admitF, ""}},
		{"charges keep a discharged visit", "DFT", "P03", "I", admit, "", prior("finished", e), want{"finished", admitF, dischF}},
		{"charges open a visit", "DFT", "P03", "O", admit, "", nil, want{"in-progress", admitF, ""}},
		{"charges of a visit in progress", "DFT", "P03", "I", admit, "", prior("in-progress", time.Time{}), want{"in-progress", admitF, ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc := encounterOf(t, visit(tt.typ, tt.trig, tt.class, tt.start, tt.end), tt.prior)
			f := func(x time.Time) string {
				if x.IsZero() {
					return ""
				}
				return x.Format(time.RFC3339)
			}
			got := want{enc.Status, f(enc.Period.Start), f(enc.Period.End)}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDiagnosisList(t *testing.T) {
	dg1 := func(setID, code, typ, priority string) string {
		return seg("DG1", 1, setID, 3, code+"^^I10", 6, typ, 15, priority)
	}
	prior := &v2fhir.Prior{Status: "in-progress", Diagnoses: []fhir.Diagnosis{
		{Condition: "Condition/earlier", Rank: 1, Use: fhir.Concept{Codings: []fhir.Coding{{System: fhir.SystemDiagnosisRole, Code: "AD"}}}}}}
	type dx struct {
		Code string // the Condition's code, or its reference when not in the Bundle
		Use  string
		Rank int
	}
	tests := []struct {
		name  string
		raw   []byte
		prior *v2fhir.Prior
		want  []dx
	}{
		// Segment order is arrival, not a sequence: without DG1-15 no rank.
		{"no DG1-15: unranked, never ranked by position", visit("ADT", "A08", "I", admit, "",
			dg1("1", "R10.31", "A", ""), dg1("2", "K35.80", "F", ""), dg1("3", "E11.9", "W", ""), dg1("4", "K35.80", "F", "")), nil,
			[]dx{{"R10.31", "AD", 0}, {"K35.80", "DD", 0}, {"E11.9", "", 0}}},
		{"ranked by DG1-15", visit("ADT", "A08", "I", admit, "",
			dg1("1", "E11.9", "F", "2"), dg1("2", "K35.80", "F", "1"), dg1("3", "I10", "F", "")), nil,
			[]dx{{"E11.9", "DD", 2}, {"K35.80", "DD", 1}, {"I10", "DD", 0}}},
		{"no DG1 keeps the prior list", visit("ADT", "A08", "I", admit, ""), prior,
			[]dx{{"Condition/earlier", "AD", 1}}},
		{"an ADT list replaces the prior one", visit("ADT", "A03", "I", admit, disch, dg1("1", "K35.80", "F", "")), prior,
			[]dx{{"K35.80", "DD", 0}}},
		{"a DFT keeps the prior list", visit("DFT", "P03", "I", admit, "", dg1("1", "K35.80", "F", "")), prior,
			[]dx{{"Condition/earlier", "AD", 1}}},
		{"a DFT of a new visit lists its DG1", visit("DFT", "P03", "I", admit, "", dg1("1", "K35.80", "F", "")), nil,
			[]dx{{"K35.80", "DD", 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := v2fhir.Map(parse(t, tt.raw), opts, tt.prior)
			if err != nil {
				t.Fatal(err)
			}
			codes := map[string]string{}
			var enc fhir.Encounter
			for _, w := range plan(t, res.Bundle) {
				switch w.Type {
				case "Condition":
					var c fhir.Condition
					_ = json.Unmarshal(w.Summary, &c)
					codes["Condition/"+w.ID] = c.Code.Code(fhir.SystemICD10CM)
				case "Encounter":
					_ = json.Unmarshal(w.Summary, &enc)
				}
			}
			var got []dx
			for _, d := range enc.Diagnoses {
				got = append(got, dx{first(codes[d.Condition], d.Condition), d.Use.Code(fhir.SystemDiagnosisRole), d.Rank})
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDiagnosisVerification: DG1-6 (HL7 table 0052) W working is an
// uncertain diagnosis (ICD-10-CM Official Guidelines IV.H), so provisional;
// A admitting, F final and an empty type stay confirmed.
func TestDiagnosisVerification(t *testing.T) {
	for _, tt := range []struct{ typ, want string }{{"W", "provisional"}, {"w", "provisional"}, {"F", "confirmed"}, {"A", "confirmed"}, {"", "confirmed"}} {
		t.Run("type "+tt.typ, func(t *testing.T) {
			res, err := v2fhir.Map(parse(t, visit("ADT", "A08", "I", admit, "", seg("DG1", 1, "1", 3, "E11.9^^I10", 6, tt.typ))), opts, nil)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, w := range plan(t, res.Bundle) {
				if w.Type == "Condition" {
					var c fhir.Condition
					_ = json.Unmarshal(w.Summary, &c)
					got = append(got, c.VerificationStatus)
				}
			}
			if diff := cmp.Diff([]string{tt.want}, got); diff != "" {
				t.Errorf("verificationStatus mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
