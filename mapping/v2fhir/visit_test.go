package v2fhir_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping"
	"github.com/codebridge/codebridge/mapping/v2fhir"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// store keeps the current write of each resource, the way the real store
// keeps the current version: enough to feed Map its prior Encounter and
// BuildChart its sources.
type store struct {
	cur      map[string]workitem.ResourceWrite // "Type/id"
	versions map[string]int
}

func newStore() *store {
	return &store{cur: map[string]workitem.ResourceWrite{}, versions: map[string]int{}}
}

// deliver maps one message with the stored prior Encounter, plans the
// Bundle and stores its writes (an unchanged hash makes no new version).
func (s *store) deliver(tb testing.TB, name string) *v2fhir.Result {
	tb.Helper()
	msg := parse(tb, readMessage(tb, name))
	encID, err := v2fhir.EncounterID(msg, opts)
	if err != nil {
		tb.Fatalf("%s: EncounterID: %v", name, err)
	}
	var prior *v2fhir.Prior
	if w, ok := s.cur["Encounter/"+encID]; ok {
		var e fhir.Encounter
		if err := json.Unmarshal(w.Summary, &e); err != nil {
			tb.Fatal(err)
		}
		prior = v2fhir.PriorOf(e)
	}
	res, err := v2fhir.Map(msg, opts, prior)
	if err != nil {
		tb.Fatalf("%s: Map: %v", name, err)
	}
	if res.EncounterID != encID {
		tb.Fatalf("%s: Map put the Encounter at %s, EncounterID said %s", name, res.EncounterID, encID)
	}
	for _, w := range plan(tb, res.Bundle) {
		key := w.Type + "/" + w.ID
		if old, ok := s.cur[key]; !ok || !bytes.Equal(old.Hash, w.Hash) {
			s.versions[key]++
		}
		s.cur[key] = w
	}
	return res
}

// encounter returns the stored Encounter's extract.
func (s *store) encounter(tb testing.TB, id string) fhir.Encounter {
	tb.Helper()
	var e fhir.Encounter
	w, ok := s.cur["Encounter/"+id]
	if !ok {
		tb.Fatalf("no Encounter/%s stored", id)
	}
	if err := json.Unmarshal(w.Summary, &e); err != nil {
		tb.Fatal(err)
	}
	return e
}

// chart builds the work item of Encounter encID as the store gathers it.
func (s *store) chart(tb testing.TB, encID string) mapping.Derived {
	tb.Helper()
	patID := s.cur["Encounter/"+encID].PatientID
	var srcs []mapping.Source
	for key, w := range s.cur {
		if (w.Type == "Encounter" && w.ID == encID) || w.EncounterID == encID ||
			(w.Type == "Patient" && w.ID == patID) || (w.Type == "Coverage" && w.PatientID == patID) {
			srcs = append(srcs, mapping.Source{Type: w.Type, ID: w.ID, Version: s.versions[key], Summary: w.Summary})
		}
	}
	d, err := mapping.BuildChart(srcs, time.Date(2025, 3, 18, 0, 0, 0, 0, time.UTC))
	if err != nil {
		tb.Fatalf("BuildChart: %v", err)
	}
	return d
}

// TestOneVisitA01A03P03 sends an admission, its discharge and its charges
// for one visit and finds one Encounter, finished, its diagnoses ranked by
// the discharge, and the charge lines suggested with their units,
// modifiers and diagnosis pointers: the chart a FHIR push would build.
func TestOneVisitA01A03P03(t *testing.T) {
	s := newStore()
	a01 := s.deliver(t, "adt-a01")
	a03 := s.deliver(t, "adt-a03")
	encVersions := s.versions["Encounter/"+a01.EncounterID]
	p03 := s.deliver(t, "dft-p03")
	if a01.EncounterID != a03.EncounterID || a03.EncounterID != p03.EncounterID || a01.PatientID != p03.PatientID {
		t.Fatalf("one visit mapped to Encounters %s, %s, %s", a01.EncounterID, a03.EncounterID, p03.EncounterID)
	}
	if n := s.versions["Encounter/"+a01.EncounterID]; n != encVersions {
		t.Errorf("the DFT changed the discharged Encounter (%d versions, was %d)", n, encVersions)
	}
	encs := 0
	for _, w := range s.cur {
		if w.Type == "Encounter" {
			encs++
		}
	}
	if encs != 1 {
		t.Fatalf("%d Encounters stored, want 1", encs)
	}
	d := s.chart(t, a01.EncounterID)
	if d.Status != workitem.Ready || d.Class != "IMP" {
		t.Errorf("work item status %s class %s, want ready IMP", d.Status, d.Class)
	}
	if d.ServiceStart == nil || d.ServiceEnd == nil || !d.ServiceEnd.Equal(time.Date(2025, 3, 17, 16, 45, 0, 0, time.UTC)) {
		t.Errorf("service period %v - %v", d.ServiceStart, d.ServiceEnd)
	}
	type line struct {
		System, Code, Kind string
		Units              int
		Modifiers          []string
		Diagnoses          []int
	}
	var got []line
	for _, c := range d.Chart.SuggestedCodes {
		got = append(got, line{c.System, c.Code, c.Kind, c.Units, c.Modifiers, c.Diagnoses})
	}
	// Charges of one date come in id order; compare the charge lines (the
	// CPT lines, last) by code.
	if i := slices.IndexFunc(got, func(l line) bool { return l.System == "cpt" }); i >= 0 {
		slices.SortFunc(got[i:], func(a, b line) int { return strings.Compare(a.Code, b.Code) })
	}
	want := []line{
		{"icd10cm", "K35.80", "diagnosis", 0, nil, nil}, // ranked by the A03
		{"icd10cm", "E11.9", "diagnosis", 0, nil, nil},
		{"icd10cm", "N39.0", "diagnosis", 0, nil, nil},
		{"icd10cm", "R10.31", "diagnosis", 0, nil, nil}, // the A01's admitting diagnosis, unranked
		{"icd10pcs", "0DTJ4ZZ", "procedure", 0, nil, nil},
		{"cpt", "36415", "procedure", 2, nil, []int{1}},
		{"cpt", "71046", "procedure", 1, []string{"26"}, []int{1}},
		{"cpt", "80053", "procedure", 1, nil, []int{1}},
		{"cpt", "85025", "procedure", 2, []string{"91"}, []int{1}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("suggested codes mismatch (-want +got):\n%s", diff)
	}
	if len(d.Chart.Charges) != 4 || len(d.Chart.Coverage) != 1 || d.Chart.PatientSummary == nil || d.Chart.PatientSummary.Gender != "female" {
		t.Errorf("charges %d, coverage %d, patient %+v", len(d.Chart.Charges), len(d.Chart.Coverage), d.Chart.PatientSummary)
	}
}

// TestRedeliveryIsNoOp: delivering every message of a visit twice makes no
// new version of anything.
func TestRedeliveryIsNoOp(t *testing.T) {
	s := newStore()
	names := []string{"adt-a01", "adt-a08", "adt-a03", "dft-p03"}
	for _, n := range names {
		s.deliver(t, n)
	}
	before := map[string]int{}
	for k, v := range s.versions {
		before[k] = v
	}
	// A03 and P03 again, as a sender retrying after a lost ACK would.
	s.deliver(t, "adt-a03")
	s.deliver(t, "dft-p03")
	if diff := cmp.Diff(before, s.versions); diff != "" {
		t.Errorf("re-delivery made new versions (-before +after):\n%s", diff)
	}
}

// TestOutOfOrderVisit checks the status rules over real messages: the
// discharge before the admission still ends finished with both dates; a
// cancel-discharge reopens it without the discharge date; a late update
// does not close it again.
func TestOutOfOrderVisit(t *testing.T) {
	type state struct{ Status, Start, End string }
	stateOf := func(e fhir.Encounter) state {
		f := func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format(time.RFC3339)
		}
		return state{e.Status, f(e.Period.Start), f(e.Period.End)}
	}
	s := newStore()
	id := s.deliver(t, "adt-a03").EncounterID
	s.deliver(t, "adt-a01")
	s.deliver(t, "adt-a08")
	done := state{"finished", "2025-03-14T13:30:00Z", "2025-03-17T16:45:00Z"}
	if got := stateOf(s.encounter(t, id)); got != done {
		t.Fatalf("A03 then A01, A08: %+v, want %+v", got, done)
	}
	s.deliver(t, "adt-a13")
	reopened := state{"in-progress", "2025-03-14T13:30:00Z", ""}
	if got := stateOf(s.encounter(t, id)); got != reopened {
		t.Fatalf("after A13: %+v, want %+v", got, reopened)
	}
	if d := s.chart(t, id); d.Status != workitem.Pending {
		t.Errorf("reopened visit's item is %s, want pending", d.Status)
	}
	s.deliver(t, "adt-a08")
	if got := stateOf(s.encounter(t, id)); got != reopened {
		t.Errorf("A08 after A13: %+v, want %+v", got, reopened)
	}
	s.deliver(t, "adt-a11")
	s.deliver(t, "adt-a01")
	if got := stateOf(s.encounter(t, id)).Status; got != "cancelled" {
		t.Errorf("A01 after A11: %s, want cancelled", got)
	}
	if d := s.chart(t, id); d.Status != workitem.Cancelled {
		t.Errorf("cancelled visit's item is %s, want cancelled", d.Status)
	}
}
