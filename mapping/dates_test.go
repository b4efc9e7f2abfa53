package mapping_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping"
	"github.com/codebridge/codebridge/mapping/codes"
	"github.com/codebridge/codebridge/mapping/edits"
	"github.com/codebridge/codebridge/mapping/workitem"
)

func civil(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func mustZone(tb testing.TB, name string) *time.Location {
	tb.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		tb.Fatal(err)
	}
	return loc
}

// TestEncounterDates pins the local date of service: the offset the time
// was sent with, the facility zone for UTC times, a bare date as sent.
func TestEncounterDates(t *testing.T) {
	chicago := mustZone(t, "America/Chicago")
	utc := func(s string) *time.Time { tm, _ := time.Parse(time.RFC3339, s); tm = tm.UTC(); return &tm }
	tests := []struct {
		name       string
		enc        workitem.EncounterView
		facility   *time.Location
		start, end time.Time
	}{
		{"-05:00 evening visit stays on 09-30", workitem.EncounterView{StartAsSent: "2025-09-30T21:00:00-05:00", EndAsSent: "2025-09-30T21:30:00-05:00"},
			nil, civil(2025, 9, 30), civil(2025, 9, 30)},
		{"-05:00 visit keeps its offset whatever the facility zone", workitem.EncounterView{StartAsSent: "2025-09-30T21:00:00-05:00"},
			mustZone(t, "Asia/Tokyo"), civil(2025, 9, 30), time.Time{}},
		{"Z time without a facility zone is the UTC date", workitem.EncounterView{StartAsSent: "2025-10-01T02:00:00Z"},
			nil, civil(2025, 10, 1), time.Time{}},
		{"Z time in America/Chicago", workitem.EncounterView{StartAsSent: "2025-10-01T02:00:00Z"},
			chicago, civil(2025, 9, 30), time.Time{}},
		{"bare date is taken as sent", workitem.EncounterView{StartAsSent: "2025-10-01", EndAsSent: "2025-10-02"},
			chicago, civil(2025, 10, 1), civil(2025, 10, 2)},
		{"a year is no date of service", workitem.EncounterView{StartAsSent: "2025"}, nil, time.Time{}, time.Time{}},
		{"older chart: UTC time in the facility zone", workitem.EncounterView{Start: utc("2025-10-01T02:00:00Z")},
			chicago, civil(2025, 9, 30), time.Time{}},
		{"older chart: UTC midnight read as a bare date", workitem.EncounterView{Start: utc("2025-10-01T00:00:00Z")},
			chicago, civil(2025, 10, 1), time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start, end := mapping.EncounterDates(tt.enc, tt.facility)
			if !start.Equal(tt.start) || !end.Equal(tt.end) {
				t.Errorf("EncounterDates = %s, %s; want %s, %s", start, end, tt.start, tt.end)
			}
		})
	}
}

// dosLookup is a hand-made catalog (test content, not CMS data): J20.9 in
// FY2025 and FY2026, B88.01 added in FY2026, A00.0 deleted in FY2026;
// MUE, PTP, POA-exempt and MCE answer "nothing applies".
func dosLookup(tb testing.TB) codes.Lookup {
	tb.Helper()
	c := codes.NewCatalog()
	for v, cs := range map[string][]string{"FY2025": {"J209", "A000"}, "FY2026": {"J209", "B8801"}} {
		var b strings.Builder
		for i, code := range cs {
			fmt.Fprintf(&b, "%05d %-7s 1 %-60s %s\n", i+1, code, "Test "+code, "Test "+code)
		}
		rel, _ := codes.NewRelease(codes.ICD10CM, v)
		if _, err := c.Load(rel, strings.NewReader(b.String())); err != nil {
			tb.Fatal(err)
		}
	}
	return quietTables{c}
}

type quietTables struct{ codes.Lookup }

func (quietTables) MUE(context.Context, string, time.Time) (codes.MUE, error) {
	return codes.MUE{}, codes.ErrNotFound
}
func (quietTables) PTP(context.Context, string, string, time.Time) (codes.PTP, error) {
	return codes.PTP{}, codes.ErrNotFound
}
func (quietTables) POAExempt(context.Context, string, time.Time) (bool, error) { return false, nil }
func (quietTables) Tabular(context.Context, string, time.Time) (codes.TabularInstructions, error) {
	return codes.TabularInstructions{}, codes.ErrNotFound
}

func (quietTables) MCE(context.Context, string, time.Time) (codes.MCEFacts, error) {
	return codes.MCEFacts{}, nil
}

// TestDateOfServiceEdits runs charts as the EHR sent them through
// EditChart and the edits: the date of service is the encounter's local
// date (Medicare Claims Processing Manual, Pub. 100-04, ch. 23, sec. 10.2:
// codes by date of service, by discharge date for inpatient stays; the
// FY2026 release takes effect 2025-10-01). Each rule has a passing and a
// failing chart.
func TestDateOfServiceEdits(t *testing.T) {
	chicago := mustZone(t, "America/Chicago")
	lk := dosLookup(t)
	visit := func(start string) workitem.EncounterView {
		return workitem.EncounterView{Class: "AMB", StartAsSent: start}
	}
	stay := workitem.EncounterView{Class: "IMP", StartAsSent: "2025-09-28T10:00:00-05:00", EndAsSent: "2025-10-02T09:00:00-05:00"}
	tests := []struct {
		name     string
		enc      workitem.EncounterView
		facility *time.Location
		dx       string
		want     []string
	}{
		{"-05:00 evening visit on 09-30 is FY2025: J20.9", visit("2025-09-30T21:00:00-05:00"), nil, "J20.9", nil},
		{"-05:00 evening visit on 09-30 is FY2025: B88.01 not yet valid", visit("2025-09-30T21:00:00-05:00"), nil, "B88.01",
			[]string{edits.CodeNotYetValid}},
		{"Z time, no facility zone: 10-01 UTC, B88.01 valid", visit("2025-10-01T02:00:00Z"), nil, "B88.01", nil},
		{"Z time, facility America/Chicago: 09-30, B88.01 not yet valid", visit("2025-10-01T02:00:00Z"), chicago, "B88.01",
			[]string{edits.CodeNotYetValid}},
		{"inpatient 09-28..10-02 by discharge date: B88.01 valid", stay, nil, "B88.01", nil},
		{"inpatient 09-28..10-02 by discharge date: A00.0 deleted", stay, nil, "A00.0", []string{edits.CodeDeleted}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chart := &workitem.Chart{Encounter: tt.enc}
			a := workitem.Assignment{Diagnoses: []workitem.AssignedDiagnosis{{Code: tt.dx, POA: "Y"}}}
			ec, err := mapping.EditChart(chart, a, nil, tt.facility)
			if err != nil {
				t.Fatal(err)
			}
			es, err := edits.Check(context.Background(), lk, ec)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range es {
				got = append(got, e.Code)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("edits %v (%+v), want %v", got, es, tt.want)
			}
		})
	}
}

// TestClaimShowsEditDates checks that the Claim's billablePeriod and item
// dates are the dates the edits used: the chart's local dates, the
// facility zone applied to UTC times.
func TestClaimShowsEditDates(t *testing.T) {
	chicago := mustZone(t, "America/Chicago")
	for _, tc := range []struct {
		name, start, end       string
		facility               *time.Location
		wantStart, wantEnd     string
		wantItem1, wantItem2nd string
	}{
		{"-05:00 evening visit", "2025-09-30T21:00:00-05:00", "2025-09-30T22:00:00-05:00", nil, "2025-09-30", "2025-09-30", "2025-09-30", "2025-10-01"},
		{"Z times in America/Chicago", "2025-10-01T02:00:00Z", "2025-10-01T03:00:00Z", chicago, "2025-09-30", "2025-09-30", "2025-09-30", "2025-10-01"},
		{"Z times in UTC", "2025-10-01T02:00:00Z", "2025-10-01T03:00:00Z", nil, "2025-10-01", "2025-10-01", "2025-10-01", "2025-10-01"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			chart := &workitem.Chart{Encounter: workitem.EncounterView{Class: "AMB", StartAsSent: tc.start, EndAsSent: tc.end}}
			a := workitem.Assignment{Diagnoses: []workitem.AssignedDiagnosis{{Code: "J20.9"}},
				Lines: []workitem.AssignedLine{{Code: "99213", Units: 1, Diagnoses: []int{1}},
					{Code: "99213", Units: 1, Diagnoses: []int{1}, ServiceDate: "2025-10-01"}}}
			ec, err := mapping.EditChart(chart, a, nil, tc.facility)
			if err != nil {
				t.Fatal(err)
			}
			if got := ec.Start.Format(time.DateOnly); got != tc.wantStart {
				t.Fatalf("edits date of service %s, want %s", got, tc.wantStart)
			}
			in := officeInput()
			in.Encounter.Period = fhir.Period{} // the Claim must not need the instants
			in.Encounter.StartAsSent, in.Encounter.EndAsSent = tc.start, tc.end
			in.Options.Facility = tc.facility
			in.Diagnoses, in.Lines = ec.Diagnoses, ec.Lines
			c, err := mapping.BuildClaim(in)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := mapping.MarshalClaim(c)
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				BillablePeriod struct{ Start, End string }
				Item           []struct{ ServicedDate string }
			}
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatal(err)
			}
			want := []string{tc.wantStart, tc.wantEnd, tc.wantItem1, tc.wantItem2nd}
			have := []string{got.BillablePeriod.Start, got.BillablePeriod.End, got.Item[0].ServicedDate, got.Item[1].ServicedDate}
			if strings.Join(have, " ") != strings.Join(want, " ") {
				t.Errorf("Claim billablePeriod and item dates %v, want %v", have, want)
			}
		})
	}
}
