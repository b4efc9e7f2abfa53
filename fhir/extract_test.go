package fhir

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestEncounterOf(t *testing.T) {
	got, err := EncounterOf(mustParse(t, "Encounter-f202.json"))
	if err != nil {
		t.Fatal(err)
	}
	dx := Concept{Codings: []Coding{{SystemDiagnosisRole, "AD", "Admission diagnosis"}}}
	want := Encounter{
		ID: "f202", Status: "finished",
		Identifiers:     []Identifier{{"", "Encounter_Roel_20130128"}},
		Class:           Coding{SystemActCode, "AMB", "ambulatory"},
		Subject:         "Patient/f201",
		ServiceProvider: "Organization/f201",
		Participants:    []Participant{{Individual: "Practitioner/f201"}},
		Diagnoses: []Diagnosis{{Use: dx, Rank: 2},
			{Use: Concept{Codings: []Coding{{SystemDiagnosisRole, "CC", "Chief complaint"}}}, Rank: 1}},
	}
	got.Types = nil
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	home, _ := EncounterOf(mustParse(t, "Encounter-home.json"))
	start := time.Date(2015, 1, 17, 6, 0, 0, 0, time.UTC)
	if !home.Period.Start.Equal(start) || !home.Period.End.Equal(start.Add(30*time.Minute)) {
		t.Errorf("Period = %v, want %v + 30m", home.Period, start)
	}
	if home.StartAsSent != "2015-01-17T16:00:00+10:00" || home.EndAsSent != "2015-01-17T16:30:00+10:00" {
		t.Errorf("period as sent = %q, %q; want the +10:00 times", home.StartAsSent, home.EndAsSent)
	}
	if diff := cmp.Diff([]string{"#home"}, home.Locations); diff != "" {
		t.Errorf("Locations mismatch (-want +got):\n%s", diff)
	}
}

// TestAsSent: a dateTime keeps the offset it was sent with, "Z" for UTC,
// and its precision (a bare date stays a date).
func TestAsSent(t *testing.T) {
	p, err := NewParser()
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"2025-09-30T21:00:00-05:00", "2025-10-01T02:00:00Z", "2025-10-01T02:00:00.5Z", "2025-09-30", "2025-09", "2025"} {
		res, err := p.Parse([]byte(`{"resourceType":"Encounter","status":"finished","class":{"code":"AMB"},"period":{"start":"` + v + `"}}`))
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		if e, _ := EncounterOf(res); e.StartAsSent != v {
			t.Errorf("AsSent(%s) = %q", v, e.StartAsSent)
		}
	}
}

func TestConditionOf(t *testing.T) {
	got, err := ConditionOf(mustParse(t, "Condition-f201.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got.ClinicalStatus != "resolved" || got.VerificationStatus != "confirmed" ||
		got.Subject != "Patient/f201" || got.Encounter != "Encounter/f201" {
		t.Errorf("got %+v", got)
	}
	want := Concept{Codings: []Coding{{SystemSNOMED, "386661006", "Fever"}}}
	if diff := cmp.Diff(want, got.Code); diff != "" {
		t.Errorf("Code mismatch (-want +got):\n%s", diff)
	}
	if c := got.Categories[0].Code(SystemConditionCategory); c != "problem-list-item" {
		t.Errorf("category = %q", c)
	}
}

func TestProcedureOf(t *testing.T) {
	got, err := ProcedureOf(mustParse(t, "Procedure-f201.json"))
	if err != nil {
		t.Fatal(err)
	}
	loc := time.FixedZone("+01:00", 3600)
	want := Procedure{
		ID: "f201", Status: "completed", Subject: "Patient/f201", Encounter: "Encounter/f202",
		Code:       Concept{Codings: []Coding{{SystemSNOMED, "367336001", "Chemotherapy"}}},
		Performed:  Period{time.Date(2013, 1, 28, 13, 31, 0, 0, loc), time.Date(2013, 1, 28, 14, 27, 0, 0, loc)},
		Performers: []string{"Practitioner/f201"},
		BodySites:  []Concept{{Codings: []Coding{{SystemSNOMED, "272676008", "Sphenoid bone"}}}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

func TestPatientOf(t *testing.T) {
	got, err := PatientOf(mustParse(t, "Patient-example.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got.Gender != "male" || got.BirthDate != "1974-12-25" || got.Names[0].Family != "Chalmers" ||
		!cmp.Equal(got.Names[0].Given, []string{"Peter", "James"}) {
		t.Errorf("got %+v", got)
	}
	if diff := cmp.Diff([]Identifier{{"urn:oid:1.2.36.146.595.217.0.1", "12345"}}, got.Identifiers); diff != "" {
		t.Errorf("Identifiers mismatch (-want +got):\n%s", diff)
	}
}

func TestCoverageOf(t *testing.T) {
	got, err := CoverageOf(mustParse(t, "Coverage-9876B1.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != "active" || got.Beneficiary != "Patient/4" || got.Subscriber != "Patient/4" ||
		got.Relationship != "self" || !cmp.Equal(got.Payors, []string{"Organization/2"}) {
		t.Errorf("got %+v", got)
	}
	if got.Classes[0] != (CoverageClass{"group", "CB135", "Corporate Baker's Inc. Local #35"}) {
		t.Errorf("Classes[0] = %+v", got.Classes[0])
	}
}

func TestPractitionerAndOrganizationOf(t *testing.T) {
	pr, err := PractitionerOf(mustParse(t, "Practitioner-f201.json"))
	if err != nil || pr.Names[0].Family != "Bronsig" || pr.Identifiers[0].Value != "12345678901" || pr.NPI != "" {
		t.Errorf("PractitionerOf = %+v, %v", pr, err)
	}
	org, err := OrganizationOf(mustParse(t, "Organization-f001.json"))
	if err != nil || org.Name != "Burgers University Medical Center" || len(org.Identifiers) != 2 {
		t.Errorf("OrganizationOf = %+v, %v", org, err)
	}
	npi := []byte(`{"resourceType":"Practitioner","identifier":[{"system":"http://hl7.org/fhir/sid/us-npi","value":"1234567893"}]}`)
	res, err := parser(t).Parse(npi)
	if err != nil {
		t.Fatal(err)
	}
	if pr, _ := PractitionerOf(res); pr.NPI != "1234567893" {
		t.Errorf("NPI = %q", pr.NPI)
	}
	if _, err := OrganizationOf(res); err == nil {
		t.Error("OrganizationOf(Practitioner) succeeded")
	}
}

func TestDocumentReferenceOf(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "fhir", "documentreference-note.json"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := parser(t).Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DocumentReferenceOf(res)
	if err != nil {
		t.Fatal(err)
	}
	want := DocumentReference{
		ID: "note1", Status: "current", Subject: "Patient/example",
		Identifiers: []Identifier{{"urn:example:notes", "N-1"}},
		Encounters:  []string{"Encounter/f202"},
		Type:        Concept{Codings: []Coding{{SystemLOINC, "11506-3", "Progress note"}}},
		Date:        time.Date(2024, 3, 1, 10, 15, 0, 0, time.UTC),
		Attachments: []Attachment{
			{ContentType: "text/plain", Text: "Synthetic note: cough and fever.", Size: 32},
			{ContentType: "application/pdf", Title: "Scan", URL: "https://ehr.example/docs/1.pdf"},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
}

func TestIdentifiers(t *testing.T) {
	got := Identifiers(mustParse(t, "Organization-f001.json").Msg)
	want := []Identifier{{"urn:oid:2.16.528.1", "91654"}, {"urn:oid:2.16.840.1.113883.2.4.6.1", "17-0112278"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	if got[0].String() != "urn:oid:2.16.528.1|91654" {
		t.Errorf("String() = %q", got[0].String())
	}
}
