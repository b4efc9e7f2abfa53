package v2fhir_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping/hl7v2"
	"github.com/codebridge/codebridge/mapping/v2fhir"
)

func TestMapBadContent(t *testing.T) {
	pv1 := func(fields ...any) string {
		return seg("PV1", append([]any{1, "1", 2, "I", 19, "V1^^^CBHOSP^VN"}, fields...)...)
	}
	adt := func(segs ...string) []byte { return message("ADT", "A01", "2.5.1", segs...) }
	detail := func(segment string, seq, field, comp int, code string) hl7v2.ErrDetail {
		return hl7v2.ErrDetail{Segment: segment, Seq: seq, Field: field, Comp: comp, Code: code}
	}
	tests := []struct {
		name string
		raw  []byte
		want []hl7v2.ErrDetail
	}{
		{"missing PV1-19", adt(pidSeg, seg("PV1", 1, "1", 2, "I")), []hl7v2.ErrDetail{detail("PV1", 1, 19, 1, "101")}},
		{"missing PID-3", adt("PID|1||||DOE^JO", pv1()), []hl7v2.ErrDetail{detail("PID", 1, 3, 1, "101")}},
		{"missing PV1 segment", adt(pidSeg), []hl7v2.ErrDetail{detail("PV1", 1, 0, 0, "100")}},
		{"missing sending facility", []byte(strings.Replace(string(adt(pidSeg, pv1())), "|CBHOSP|CODEBRIDGE", "||CODEBRIDGE", 1)),
			[]hl7v2.ErrDetail{detail("MSH", 1, 4, 1, "101")}},
		{"unknown DG1 coding system", adt(pidSeg, pv1(), seg("DG1", 1, "1", 3, "J20.9^Bronchitis^99LOCAL"), seg("DG1", 1, "2", 3, "I10^^I10")),
			[]hl7v2.ErrDetail{detail("DG1", 1, 3, 3, "103")}},
		{"DG1 without coding system", adt(pidSeg, pv1(), seg("DG1", 1, "1", 3, "I10"), seg("DG1", 1, "2", 3, "E11.9^^I10"), seg("DG1", 1, "3")),
			[]hl7v2.ErrDetail{detail("DG1", 1, 3, 3, "101"), detail("DG1", 3, 3, 1, "101")}},
		{"bad admit date", adt(pidSeg, pv1(44, "20251301")), []hl7v2.ErrDetail{detail("PV1", 1, 44, 1, "102")}},
		{"discharge before admit", adt(pidSeg, pv1(44, "202503140830", 45, "202503130830")), []hl7v2.ErrDetail{detail("PV1", 1, 45, 1, "102")}},
		{"bad birth date and sex", adt("PID|1||MRN1^^^CBHOSP^MR||DOE^JO||19800230|X", pv1()),
			[]hl7v2.ErrDetail{detail("PID", 1, 7, 1, "102"), detail("PID", 1, 8, 1, "103")}},
		{"bad patient class", adt(pidSeg, seg("PV1", 1, "1", 2, "Z", 19, "V1")), []hl7v2.ErrDetail{detail("PV1", 1, 2, 1, "103")}},
		{"bad charge", message("DFT", "P03", "2.5.1", pidSeg, pv1(),
			seg("FT1", 1, "1", 2, "T1", 4, "20250314", 6, "CG", 10, "two", 25, "99213^^C4", 26, "95~XYZ"),
			seg("FT1", 1, "2", 2, "T2", 6, "CG", 25, "ABC^^C4"), seg("FT1", 1, "3", 2, "T3", 6, "CG")),
			[]hl7v2.ErrDetail{detail("FT1", 1, 10, 1, "102"), detail("FT1", 1, 26, 1, "102"), detail("FT1", 3, 25, 1, "101")}},
		{"procedure code not in a known format", adt(pidSeg, pv1(), seg("PR1", 1, "1", 3, "12")), []hl7v2.ErrDetail{detail("PR1", 1, 3, 3, "101")}},
		{"insurance without payer", adt(pidSeg, pv1(), seg("IN1", 1, "1", 2, "PLAN")), []hl7v2.ErrDetail{detail("IN1", 1, 3, 1, "101")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v2fhir.Map(parse(t, tt.raw), opts, nil)
			var e *v2fhir.Error
			if !errors.As(err, &e) || e.Kind != v2fhir.Invalid || v2fhir.KindOf(err) != v2fhir.Invalid {
				t.Fatalf("Map = %v, want an Invalid *v2fhir.Error", err)
			}
			var got []hl7v2.ErrDetail
			for _, d := range e.Details {
				if d.Text == "" {
					t.Errorf("%+v has no text", d)
				}
				d.Text = ""
				got = append(got, d)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("details mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestErrorsCarryNoContent: neither Error() nor the ERR texts echo the
// message's values.
func TestErrorsCarryNoContent(t *testing.T) {
	raw := message("ADT", "A01", "2.5.1", "PID|1||SECRETMRN^^^CBHOSP^MR||SECRETNAME^JO||19801399|Q",
		seg("PV1", 1, "1", 2, "Q", 19, "SECRETVISIT", 44, "SECRETDATE"), seg("DG1", 1, "1", 3, "J20.9^SECRETTEXT^SECRETSYS"))
	_, err := v2fhir.Map(parse(t, raw), opts, nil)
	if err == nil {
		t.Fatal("Map accepted bad content")
	}
	var e *v2fhir.Error
	errors.As(err, &e)
	texts := err.Error()
	for _, d := range e.Details {
		texts += " " + d.Text
	}
	for _, secret := range []string{"SECRET", "19801399", "J20.9"} {
		if strings.Contains(texts, secret) {
			t.Errorf("error text echoes %q: %s", secret, texts)
		}
	}
}

func TestMapUnsupported(t *testing.T) {
	body := []string{pidSeg, seg("PV1", 1, "1", 2, "I", 19, "V1")}
	tests := []struct {
		name string
		raw  []byte
		want hl7v2.ErrDetail
	}{
		{"message type", message("ORU", "R01", "2.5.1", body...), hl7v2.ErrDetail{Segment: "MSH", Seq: 1, Field: 9, Comp: 1, Code: "200"}},
		{"trigger event", message("ADT", "A02", "2.5.1", body...), hl7v2.ErrDetail{Segment: "MSH", Seq: 1, Field: 9, Comp: 2, Code: "201"}},
		{"DFT other than P03", message("DFT", "P11", "2.5.1", body...), hl7v2.ErrDetail{Segment: "MSH", Seq: 1, Field: 9, Comp: 2, Code: "201"}},
		{"version too old", message("ADT", "A01", "2.2", body...), hl7v2.ErrDetail{Segment: "MSH", Seq: 1, Field: 12, Comp: 1, Code: "203"}},
		{"version too new", message("ADT", "A01", "2.9", body...), hl7v2.ErrDetail{Segment: "MSH", Seq: 1, Field: 12, Comp: 1, Code: "203"}},
		{"version 3", message("ADT", "A01", "3.0", body...), hl7v2.ErrDetail{Segment: "MSH", Seq: 1, Field: 12, Comp: 1, Code: "203"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := parse(t, tt.raw)
			for _, call := range []func() error{
				func() error { _, err := v2fhir.Map(msg, opts, nil); return err },
				func() error { _, err := v2fhir.EncounterID(msg, opts); return err },
			} {
				err := call()
				var e *v2fhir.Error
				if !errors.As(err, &e) || e.Kind != v2fhir.Unsupported || len(e.Details) != 1 {
					t.Fatalf("got %v, want one Unsupported detail", err)
				}
				d := e.Details[0]
				d.Text = ""
				if diff := cmp.Diff(tt.want, d); diff != "" {
					t.Errorf("detail mismatch (-want +got):\n%s", diff)
				}
			}
		})
	}
	for _, v := range []string{"2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.7.1", "2.8", "2.8.2"} {
		if _, err := v2fhir.Map(parse(t, message("ADT", "A08", v, body...)), opts, nil); err != nil {
			t.Errorf("version %s: %v", v, err)
		}
	}
	// A 2.3 sender may leave MSH-9.2 empty: the trigger is EVN-1.
	raw := message("ADT", "", "2.3", append([]string{"EVN|A04|20250314"}, body...)...)
	if res, err := v2fhir.Map(parse(t, raw), opts, nil); err != nil || res.Event != "ADT^A04" {
		t.Errorf("trigger from EVN-1: %v, %v", res, err)
	}
}

func TestCodingSystemAliases(t *testing.T) {
	custom := v2fhir.Options{Aliases: map[string]string{"I10": fhir.SystemICD10CM, "LOCALDX": fhir.SystemICD10CM}}
	tests := []struct {
		name     string
		opts     v2fhir.Options
		field    string
		wantSys  string
		wantCode string
	}{
		{"I10", opts, "J20.9^^I10", fhir.SystemICD10CM, "J20.9"},
		{"ICD10CM", opts, "J20.9^^ICD10CM", fhir.SystemICD10CM, "J20.9"},
		{"ICD-10-CM", opts, "J20.9^^ICD-10-CM", fhir.SystemICD10CM, "J20.9"},
		{"lower case", opts, "J20.9^^icd-10-cm", fhir.SystemICD10CM, "J20.9"},
		{"SNOMED", opts, "10509002^^SCT", fhir.SystemSNOMED, "10509002"},
		{"a URI as the system", opts, "J20.9^^http://hl7.org/fhir/sid/icd-10-cm", fhir.SystemICD10CM, "J20.9"},
		{"a site alias", custom, "J20.9^^LOCALDX", fhir.SystemICD10CM, "J20.9"},
		{"coding method DG1-2", opts, "J20.9", fhir.SystemICD10CM, "J20.9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := visit("ADT", "A08", "I", admit, "", seg("DG1", 1, "1", 2, "I10", 3, tt.field))
			res, err := v2fhir.Map(parse(t, raw), tt.opts, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range plan(t, res.Bundle) {
				if w.Type != "Condition" {
					continue
				}
				var c fhir.Condition
				if err := json.Unmarshal(w.Summary, &c); err != nil {
					t.Fatal(err)
				}
				if got := c.Code.Codings[0]; got.System != tt.wantSys || got.Code != tt.wantCode {
					t.Errorf("coding %+v, want %s|%s", got, tt.wantSys, tt.wantCode)
				}
				return
			}
			t.Fatal("no Condition mapped")
		})
	}
	// Without the alias, the site's name is refused.
	raw := visit("ADT", "A08", "I", admit, "", seg("DG1", 1, "1", 3, "J20.9^^LOCALDX"))
	if _, err := v2fhir.Map(parse(t, raw), opts, nil); v2fhir.KindOf(err) != v2fhir.Invalid {
		t.Errorf("unknown alias: %v, want Invalid", err)
	}
}
