package mapping_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping"
	"github.com/codebridge/codebridge/mapping/codes"
	"github.com/codebridge/codebridge/mapping/edits"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// claimGoldenDir holds the golden Claims, refreshed with -update.
var claimGoldenDir = filepath.Join(goldenDir, "claims")

// est is a fixed US Eastern (standard time) offset, to check that dates
// keep the offset they were documented in.
var est = time.FixedZone("-05:00", -5*3600)

// participant is an Encounter participant of the given v3 ParticipationType.
func participant(typ, ref string) fhir.Participant {
	return fhir.Participant{Individual: ref,
		Types: []fhir.Concept{{Codings: []fhir.Coding{{System: fhir.SystemParticipantType, Code: typ}}}}}
}

// officeInput is a professional office visit with one Coverage.
func officeInput() mapping.ClaimInput {
	start := time.Date(2026, 3, 2, 9, 30, 0, 0, est)
	return mapping.ClaimInput{
		ClaimID: "item-office-v1", ItemID: "item-office", ItemVersion: 1,
		Created: time.Date(2026, 3, 3, 14, 0, 0, 0, time.UTC),
		Encounter: fhir.Encounter{ID: "enc-office", Status: "finished",
			Class:           fhir.Coding{System: fhir.SystemActCode, Code: "AMB"},
			Period:          fhir.Period{Start: start, End: start.Add(30 * time.Minute)},
			Subject:         "Patient/pat-1",
			ServiceProvider: "Organization/clinic",
			Participants: []fhir.Participant{participant("PPRF", "Practitioner/dr-a"),
				participant("SPRF", "Practitioner/np-b"), participant("REF", "Practitioner/no-npi")}},
		EncounterID: "enc-office",
		Patient:     &fhir.Patient{ID: "pat-1"},
		PatientID:   "pat-1",
		Coverages:   []mapping.CoverageRef{{ID: "cov-1", Coverage: fhir.Coverage{ID: "cov-1", Status: "active"}}},
		Practitioners: map[string]fhir.Practitioner{
			"Practitioner/dr-a": {ID: "dr-a", NPI: "1234567893"},
			"Practitioner/np-b": {ID: "np-b", NPI: "1245319599"},
		},
		Organizations: map[string]fhir.Organization{"Organization/clinic": {ID: "clinic", NPI: "1003000126"}},
		Diagnoses:     []edits.Diagnosis{{Code: "E119"}, {Code: "i10"}},
		Lines: []edits.Line{
			{Code: "99214", Modifiers: []string{"25"}, Units: 1, Diagnoses: []int{1, 2}},
			{Code: "83036", Units: 1, Diagnoses: []int{1}},
			{Code: "3044F", Diagnoses: []int{1}},
		},
	}
}

// telehealthInput is a virtual visit: POS 10 and modifier 95 on every line,
// with a primary and a secondary Coverage.
func telehealthInput() mapping.ClaimInput {
	in := officeInput()
	in.ClaimID, in.ItemID = "item-tele-v1", "item-tele"
	in.Encounter.ID, in.EncounterID = "enc-tele", "enc-tele"
	in.Encounter.Class.Code = "VR"
	in.Encounter.Participants = []fhir.Participant{participant("ATND", "Practitioner/dr-a")}
	in.Coverages = append(in.Coverages, mapping.CoverageRef{ID: "cov-2", Coverage: fhir.Coverage{ID: "cov-2", Status: "active"}})
	in.Diagnoses = []edits.Diagnosis{{Code: "F41.1"}}
	in.Lines = []edits.Line{
		{Code: "99213", Units: 1, Diagnoses: []int{1}},
		{Code: "90833", Modifiers: []string{"95"}, Units: 1, Diagnoses: []int{1}},
		// Audio-only (93) and a CPT telemedicine code: no 95 added.
		{Code: "90832", Modifiers: []string{"93"}, Units: 1, Diagnoses: []int{1}},
		{Code: "98016", Units: 1, Diagnoses: []int{1}},
	}
	return in
}

// edInput is an emergency department visit: institutional, POS 23.
func edInput() mapping.ClaimInput {
	start := time.Date(2026, 2, 14, 23, 10, 0, 0, time.UTC)
	in := officeInput()
	in.ClaimID, in.ItemID, in.ItemVersion = "item-ed-v3", "item-ed", 3
	in.Encounter = fhir.Encounter{ID: "enc-ed", Status: "finished",
		Class:           fhir.Coding{System: fhir.SystemActCode, Code: "EMER"},
		Period:          fhir.Period{Start: start, End: start.Add(4 * time.Hour)},
		Subject:         "Patient/pat-1",
		ServiceProvider: "Organization/hospital",
		Participants:    []fhir.Participant{participant("ATND", "Practitioner/dr-a")}}
	in.EncounterID = "enc-ed"
	in.Organizations = map[string]fhir.Organization{"Organization/hospital": {ID: "hospital"}}
	in.Diagnoses = []edits.Diagnosis{{Code: "S52521A"}, {Code: "W010XXA"}}
	in.Lines = []edits.Line{
		{Code: "99284", Modifiers: []string{"25"}, Units: 1, Diagnoses: []int{1, 2}},
		{Code: "73110", Modifiers: []string{"rt"}, Units: 2, Diagnoses: []int{1}, ServiceDate: start.Add(2 * time.Hour)},
		{Code: "J1885", Units: 1, Diagnoses: []int{1}},
	}
	return in
}

// inpatientInput is an inpatient stay with ICD-10-PCS procedures and POA,
// billed under the configured billing provider.
func inpatientInput() mapping.ClaimInput {
	adm := time.Date(2026, 1, 5, 16, 0, 0, 0, est)
	in := officeInput()
	in.ClaimID, in.ItemID, in.ItemVersion = "item-ip-v1", "item-ip", 1
	in.Encounter = fhir.Encounter{ID: "enc-ip", Status: "finished",
		Class:   fhir.Coding{System: fhir.SystemActCode, Code: "IMP"},
		Period:  fhir.Period{Start: adm, End: adm.Add(76 * time.Hour)},
		Subject: "Patient/pat-1",
		Participants: []fhir.Participant{participant("ADM", "Practitioner/np-b"),
			participant("ATND", "Practitioner/dr-a"), participant("SPRF", "Practitioner/np-b")}}
	in.EncounterID = "enc-ip"
	in.Options.BillingProvider = "Organization/clinic"
	in.Diagnoses = []edits.Diagnosis{{Code: "K3580", POA: "Y"}, {Code: "E119", POA: "y"},
		{Code: "Z794", POA: "1"}, {Code: "L0231", POA: "N"}, {Code: "J9811", POA: "W"}, {Code: "Z87.891", POA: "Y"}}
	// Z79.4 and Z87.891 are on the FY2026 POA-exempt list: the Y given to
	// Z87.891 is not sent.
	in.POAExempt = map[string]bool{"Z794": true, "Z87891": true}
	in.Procedures = []edits.Procedure{{Code: "0dtj4zz", Date: adm.Add(5 * time.Hour)}, {Code: "3E0234Z"}}
	in.Lines = []edits.Line{{Code: "99223", Units: 1, Diagnoses: []int{1, 2, 4}}}
	return in
}

// selfPayInput is an office visit without Coverage under the self-pay policy.
func selfPayInput() mapping.ClaimInput {
	in := officeInput()
	in.ClaimID, in.ItemID = "item-self-v1", "item-self"
	in.Coverages = nil
	in.Options.SelfPay = true
	return in
}

// correctionInput re-issues the office visit after re-coding: version 2,
// replacing the version 1 Claim.
func correctionInput() mapping.ClaimInput {
	in := officeInput()
	in.ClaimID, in.ItemVersion, in.Prior = "item-office-v2", 2, "Claim/item-office-v1"
	in.Created = in.Created.Add(48 * time.Hour)
	in.Diagnoses = append(in.Diagnoses, edits.Diagnosis{Code: "E785"})
	in.Lines[0].Diagnoses = []int{1, 2, 3}
	return in
}

func TestBuildClaimGolden(t *testing.T) {
	p, err := fhir.NewParser()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		in   mapping.ClaimInput
	}{
		{"professional-office", officeInput()},
		{"telehealth", telehealthInput()},
		{"emergency", edInput()},
		{"inpatient", inpatientInput()},
		{"self-pay", selfPayInput()},
		{"correction", correctionInput()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := mapping.BuildClaim(tc.in)
			if err != nil {
				t.Fatalf("BuildClaim: %v", err)
			}
			raw, err := mapping.MarshalClaim(c)
			if err != nil {
				t.Fatalf("MarshalClaim: %v", err)
			}
			res, err := p.Parse(raw)
			if err != nil {
				t.Fatalf("emitted Claim does not re-parse: %v", err)
			}
			if diff := cmp.Diff(c, res.Msg, protocmp.Transform()); diff != "" {
				t.Errorf("re-parsed Claim mismatch (-want +got):\n%s", diff)
			}
			if err := fhir.ValidateSchema(raw); err != nil {
				t.Errorf("emitted Claim fails the R4 JSON schema: %v", err)
			}
			compareGoldenJSON(t, filepath.Join(claimGoldenDir, tc.name+".json"), raw)
		})
	}
}

// compareGoldenJSON compares raw, indented, with the golden file at path,
// or rewrites the file under -update.
func compareGoldenJSON(t *testing.T, path string, raw []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		t.Fatal(err)
	}
	buf.WriteByte('\n')
	got := buf.Bytes()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./mapping/... -update)", err)
	}
	if bytes.Equal(want, got) {
		return
	}
	if diff := cmp.Diff(decode(t, want), decode(t, got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

func TestBuildClaimErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*mapping.ClaimInput)
		is   error  // the sentinel expected, if any
		want string // a fragment of the message
	}{
		{"no provider", func(in *mapping.ClaimInput) { in.Encounter.ServiceProvider = "" }, nil, "Claim.provider"},
		{"pointer past list", func(in *mapping.ClaimInput) { in.Lines[1].Diagnoses = []int{3} }, nil, "lines[1].diagnoses: pointer 3"},
		{"pointer zero", func(in *mapping.ClaimInput) { in.Lines[0].Diagnoses = []int{0} }, nil, "lines[0].diagnoses: pointer 0"},
		{"no insurance", func(in *mapping.ClaimInput) { in.Coverages = nil }, mapping.ErrNoInsurance, "no active Coverage"},
		{"prior not a Claim", func(in *mapping.ClaimInput) { in.Prior = "Coverage/x" }, nil, "related.claim"},
		{"no patient", func(in *mapping.ClaimInput) {
			in.PatientID, in.Patient, in.Encounter.Subject = "", nil, ""
		}, nil, "patient"},
		{"no created", func(in *mapping.ClaimInput) { in.Created = time.Time{} }, nil, "Claim.created"},
		// ICD-10-PCS on inpatient institutional claims only (45 CFR 162.1002): never dropped silently.
		{"PCS on a professional claim", func(in *mapping.ClaimInput) {
			in.Procedures = []edits.Procedure{{Code: "0DTJ4ZZ"}}
		}, nil, "PX_NOT_INPATIENT"},
		{"PCS on an outpatient institutional claim", func(in *mapping.ClaimInput) {
			in.Encounter.Class.Code = "EMER"
			in.Procedures = []edits.Procedure{{Code: "0DTJ4ZZ"}}
		}, nil, "PX_NOT_INPATIENT"},
		{"PCS on an inpatient class billed professional", func(in *mapping.ClaimInput) {
			in.Encounter.Class.Code = "NONAC"
			in.Procedures = []edits.Procedure{{Code: "0DTJ4ZZ"}}
		}, nil, "PX_NOT_INPATIENT"},
		// 837P carries 12 diagnoses, 837I 25: never truncated silently.
		{"13 diagnoses on a professional claim", func(in *mapping.ClaimInput) { in.Diagnoses = manyDx(13) }, nil, "at most 12"},
		{"26 diagnoses on an institutional claim", func(in *mapping.ClaimInput) {
			in.Encounter.Class.Code = "EMER"
			in.Diagnoses = manyDx(26)
		}, nil, "at most 25"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := officeInput()
			tc.edit(&in)
			c, err := mapping.BuildClaim(in)
			if err == nil {
				t.Fatalf("BuildClaim succeeded (%d items), want an error", len(c.GetItem()))
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v is not %v", err, tc.is)
			}
			var we *workitem.Error
			if !errors.As(err, &we) || we.Kind != workitem.Unprocessable {
				t.Errorf("error %v: want a workitem.Error of kind unprocessable", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func TestBuildClaimOptions(t *testing.T) {
	for _, tc := range []struct {
		name      string
		class     string
		opts      mapping.ClaimOptions
		linePOS   string
		wantType  string
		wantPOS   string
		wantMod95 bool
	}{
		{"ambulatory", "AMB", mapping.ClaimOptions{}, "", "professional", "11", false},
		{"coder's place of service", "AMB", mapping.ClaimOptions{}, "19", "professional", "19", false},
		{"observation", "OBSENC", mapping.ClaimOptions{}, "", "institutional", "22", false},
		// 83036 (HbA1c) is not on CPT Appendix P: no 95.
		{"telehealth 02", "VR", mapping.ClaimOptions{TelehealthPOS: "02"}, "", "professional", "02", false},
		{"emergency billed professional", "EMER", mapping.ClaimOptions{InstitutionalClasses: []string{"IMP"}}, "", "professional", "23", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := officeInput()
			in.Encounter.Class.Code, in.Options = tc.class, tc.opts
			in.Lines[1].PlaceOfService = tc.linePOS
			c, err := mapping.BuildClaim(in)
			if err != nil {
				t.Fatal(err)
			}
			it := c.GetItem()[1]
			var mods []string
			for _, m := range it.GetModifier() {
				mods = append(mods, m.GetCoding()[0].GetCode().GetValue())
			}
			got := []any{c.GetType().GetCoding()[0].GetCode().GetValue(),
				it.GetLocation().GetCodeableConcept().GetCoding()[0].GetCode().GetValue(),
				len(mods) == 1 && mods[0] == "95"}
			want := []any{tc.wantType, tc.wantPOS, tc.wantMod95}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("type, POS, modifier 95 mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// manyDx returns n distinct diagnoses (their validity is the edits' job).
func manyDx(n int) []edits.Diagnosis {
	out := make([]edits.Diagnosis, n)
	for i := range out {
		out[i] = edits.Diagnosis{Code: fmt.Sprintf("R%02d", i)}
	}
	return out
}

// TestBuildClaimShapeLimits pins the largest diagnosis lists each claim
// form carries (837P 12, 837I 25) and the PCS rule's passing case.
func TestBuildClaimShapeLimits(t *testing.T) {
	for _, tc := range []struct {
		name  string
		class string
		n     int
		pcs   bool
	}{
		{"837P 12 diagnoses", "AMB", 12, false},
		{"837I outpatient 25 diagnoses", "EMER", 25, false},
		{"837I inpatient 25 diagnoses and ICD-10-PCS", "IMP", 25, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := officeInput()
			in.Encounter.Class.Code, in.Diagnoses = tc.class, manyDx(tc.n)
			if tc.pcs {
				in.Procedures = []edits.Procedure{{Code: "0DTJ4ZZ"}}
			}
			c, err := mapping.BuildClaim(in)
			if err != nil {
				t.Fatal(err)
			}
			if len(c.GetDiagnosis()) != tc.n || len(c.GetProcedure()) != len(in.Procedures) {
				t.Errorf("%d diagnoses, %d procedures; want %d, %d", len(c.GetDiagnosis()), len(c.GetProcedure()), tc.n, len(in.Procedures))
			}
		})
	}
}

// TestBuildClaimTelehealth pins modifier 95 and the place of service of
// telehealth lines (CPT Appendix P/T; CMS CY2024 PFS: POS 02/10).
func TestBuildClaimTelehealth(t *testing.T) {
	for _, tc := range []struct {
		name     string
		class    string
		code     string
		mods     []string
		pos      string
		wantMods string
		wantPOS  string
	}{
		{"audio-video VR line gets 95 at the default POS 10", "VR", "99213", nil, "", "95", "10"},
		{"coder's POS 02 kept, 95 added", "VR", "99213", nil, "02", "95", "02"},
		{"coder's POS 11 kept, no 95", "VR", "99213", nil, "11", "", "11"},
		{"audio-only 93: no 95", "VR", "99213", []string{"93"}, "", "93", "10"},
		{"FQ: no 95", "VR", "99213", []string{"FQ"}, "", "FQ", "10"},
		{"GT: no 95", "VR", "99213", []string{"gt"}, "", "GT", "10"},
		{"GQ: no 95", "VR", "99213", []string{"GQ"}, "", "GQ", "10"},
		{"FR: no 95", "VR", "99213", []string{"FR"}, "", "FR", "10"},
		{"95 given: not doubled", "VR", "99213", []string{"95"}, "", "95", "10"},
		{"98016 telehealth by definition: no 95", "VR", "98016", nil, "", "", "10"},
		{"98000 telehealth by definition: no 95", "VR", "98000", nil, "", "", "10"},
		{"office visit: no 95", "AMB", "99213", nil, "", "", "11"},
		{"App. P psychotherapy 90834 gets 95", "VR", "90834", nil, "", "95", "10"},
		{"e-visit 99421 not on App. P: no 95", "VR", "99421", nil, "", "", "10"},
		{"remote monitoring 99454: no 95", "VR", "99454", nil, "", "", "10"},
		{"unlisted 97999: no 95", "VR", "97999", nil, "", "", "10"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := officeInput()
			in.Encounter.Class.Code = tc.class
			in.Lines = []edits.Line{{Code: tc.code, Modifiers: tc.mods, Units: 1, Diagnoses: []int{1}, PlaceOfService: tc.pos}}
			c, err := mapping.BuildClaim(in)
			if err != nil {
				t.Fatal(err)
			}
			it := c.GetItem()[0]
			var mods []string
			for _, m := range it.GetModifier() {
				mods = append(mods, m.GetCoding()[0].GetCode().GetValue())
			}
			got := []string{strings.Join(mods, ","), it.GetLocation().GetCodeableConcept().GetCoding()[0].GetCode().GetValue()}
			if diff := cmp.Diff([]string{tc.wantMods, tc.wantPOS}, got); diff != "" {
				t.Errorf("modifiers, POS mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestBuildClaimPOA pins the POA indicators the Claim carries: on an
// inpatient institutional claim only, blank on POA-exempt codes (ICD-10-CM
// Official Guidelines, Appendix I) whatever the coder gave.
func TestBuildClaimPOA(t *testing.T) {
	for _, tc := range []struct {
		name   string
		class  string
		poa    string
		exempt bool
		want   string
	}{
		{"inpatient, not exempt", "IMP", "Y", false, "y"},
		{"inpatient, exempt code given Y", "IMP", "Y", true, ""},
		{"inpatient, exempt code left blank", "IMP", "", true, ""},
		{"outpatient institutional: no POA", "EMER", "Y", false, ""},
		{"professional: no POA", "AMB", "Y", false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := inpatientInput()
			in.Encounter.Class.Code = tc.class
			in.Procedures = nil
			in.Diagnoses = []edits.Diagnosis{{Code: "K35.80", POA: "Y"}, {Code: "Z87.891", POA: tc.poa}}
			in.Lines[0].Diagnoses = []int{1, 2}
			in.POAExempt = nil
			if tc.exempt {
				in.POAExempt = map[string]bool{"Z87891": true}
			}
			c, err := mapping.BuildClaim(in)
			if err != nil {
				t.Fatal(err)
			}
			got := c.GetDiagnosis()[1].GetOnAdmission().GetCoding()
			gotCode := ""
			if len(got) > 0 {
				gotCode = got[0].GetCode().GetValue()
			}
			if gotCode != tc.want {
				t.Errorf("Z87.891 onAdmission = %q, want %q", gotCode, tc.want)
			}
		})
	}
}

// poaLookup answers POA-exempt questions from a fixed list, as a loaded
// FY2026 list would; nil exempt means no list is loaded.
type poaLookup struct {
	codes.Lookup
	exempt map[string]bool
}

func (l poaLookup) POAExempt(_ context.Context, code string, _ time.Time) (bool, error) {
	if l.exempt == nil {
		return false, codes.ErrNoRelease
	}
	return l.exempt[code], nil
}

// TestLookupPOAExempt checks that the store's hook marks the exempt codes
// of inpatient institutional claims only, with the configured classes.
func TestLookupPOAExempt(t *testing.T) {
	list := map[string]bool{"Z794": true, "Z87891": true}
	for _, tc := range []struct {
		name    string
		class   string
		classes []string
		list    map[string]bool
		want    map[string]bool
	}{
		{"inpatient institutional", "IMP", nil, list, map[string]bool{"Z794": true, "Z87891": true}},
		{"inpatient billed professional by configuration", "IMP", []string{"EMER"}, list, nil},
		{"outpatient institutional", "EMER", nil, list, nil},
		{"no list loaded", "IMP", nil, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := inpatientInput()
			in.POAExempt = nil
			in.Encounter.Class.Code, in.Options.InstitutionalClasses = tc.class, tc.classes
			if err := mapping.LookupPOAExempt(context.Background(), poaLookup{exempt: tc.list}, &in); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, in.POAExempt); diff != "" {
				t.Errorf("POAExempt mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// datedPOALookup answers from the FY2025 list before 2025-10-01 and the
// FY2026 list from then on, and records the dates it was asked for.
type datedPOALookup struct {
	codes.Lookup
	asked *[]string
}

func (l datedPOALookup) POAExempt(_ context.Context, code string, on time.Time) (bool, error) {
	*l.asked = append(*l.asked, on.Format(time.DateOnly))
	if on.Before(time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC)) {
		return code == "Z794", nil // FY2025
	}
	return code == "Z87891", nil // FY2026
}

// TestLookupPOAExemptLocalDischarge checks that the Claim's POA-exempt
// list is the one of the local discharge date in the facility zone, the
// date the POA edit uses (Chart.codeSetDate), when the discharge is sent in
// UTC on the next UTC day.
func TestLookupPOAExemptLocalDischarge(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		endSent  string
		facility *time.Location
		wantDate string
		want     map[string]bool
	}{
		// 2025-10-01T02:00Z is 2025-09-30 22:00 in New York: FY2025.
		{"UTC discharge, local date the day before", "2025-10-01T02:00:00Z", ny, "2025-09-30", map[string]bool{"Z794": true}},
		{"UTC discharge, no facility zone: the UTC date", "2025-10-01T02:00:00Z", nil, "2025-10-01", map[string]bool{"Z87891": true}},
		{"offset kept as sent", "2025-10-01T02:00:00-04:00", ny, "2025-10-01", map[string]bool{"Z87891": true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := inpatientInput()
			in.POAExempt = nil
			in.Options.Facility = tc.facility
			end, err := time.Parse(time.RFC3339, tc.endSent)
			if err != nil {
				t.Fatal(err)
			}
			in.Encounter.Period = fhir.Period{Start: end.Add(-72 * time.Hour), End: end}
			in.Encounter.StartAsSent, in.Encounter.EndAsSent = "", tc.endSent
			var asked []string
			if err := mapping.LookupPOAExempt(context.Background(), datedPOALookup{asked: &asked}, &in); err != nil {
				t.Fatal(err)
			}
			if len(asked) == 0 || asked[0] != tc.wantDate {
				t.Errorf("POA list looked up on %v, want %s", asked, tc.wantDate)
			}
			if diff := cmp.Diff(tc.want, in.POAExempt); diff != "" {
				t.Errorf("POAExempt mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
