package codes

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestHistoryOn pins the code-lifetime rules of History.On (Medicare Claims
// Processing Manual ch. 23 sec. 10.2: codes by date of service, releases
// effective October 1, no grace period for discontinued codes), each rule
// with a date it fires on and a date it does not.
func TestHistoryOn(t *testing.T) {
	fy := func(y int) Release { r, _ := NewRelease(ICD10CM, "FY"+itoa(y)); return r }
	q := func(v string) Release { r, _ := NewRelease(HCPCS, v); return r }
	in := func(r Release, code string) Entry {
		return Entry{System: r.System, Code: code, Billable: true, Release: r}
	}
	hcpcs := func(r Release, code string, from, to time.Time) Entry {
		e := in(r, code)
		e.From, e.To = from, to
		return e
	}
	// B8801 added in FY2026; A000 deleted in FY2026 (hand-made history).
	added := History{Releases: []Release{fy(2026), fy(2025)}, Entries: []Entry{in(fy(2026), "B8801")}}
	deleted := History{Releases: []Release{fy(2026), fy(2025)}, Entries: []Entry{in(fy(2025), "A000")}}
	onlyLater := History{Releases: []Release{fy(2026)}, Entries: []Entry{in(fy(2026), "B8801")}}
	gap := History{Releases: []Release{fy(2026), fy(2025), fy(2024)}, Entries: []Entry{in(fy(2026), "X"), in(fy(2024), "X")}}
	oct := q("2025-Oct")
	newHCPCS := History{Releases: []Release{oct}, Entries: []Entry{hcpcs(oct, "J0001", date(2025, 10, 1), time.Time{})}}
	termed := History{Releases: []Release{oct}, Entries: []Entry{hcpcs(oct, "A4397", date(1990, 1, 1), date(2024, 12, 31))}}
	tests := []struct {
		name string
		h    History
		dos  time.Time
		want State
		in   string // a fragment the explanation must hold
	}{
		{"added later: on the day before the new release", added, date(2025, 9, 30), NotYetValid, "added in release FY2026"},
		{"added later: no release loaded for the date", added, date(2023, 5, 1), NotYetValid, "release FY2025 (2024-10-01..2025-09-30) does not contain it"},
		{"added later: valid from its release", added, date(2025, 10, 1), Unknown, ""},
		{"only a later release loaded: cannot tell", onlyLater, date(2025, 6, 1), Unknown, ""},
		{"deleted: on the first day of the release without it", deleted, date(2025, 10, 1), Deleted, "release FY2025 (2024-10-01..2025-09-30) contains it, release FY2026"},
		{"deleted: no release loaded for a later date", deleted, date(2027, 1, 4), Deleted, "deleted"},
		{"deleted: valid before its deletion", deleted, date(2025, 9, 30), Unknown, ""},
		{"gap between releases: cannot tell", gap, date(2025, 3, 1), Unknown, ""},
		{"HCPCS ADD DT after the date, only a later release loaded", newHCPCS, date(2025, 6, 1), NotYetValid, "takes effect 2025-10-01"},
		{"HCPCS ADD DT on the date", newHCPCS, date(2025, 10, 1), Unknown, ""},
		{"HCPCS TERM DT before the date", termed, date(2025, 1, 1), Deleted, "terminated 2024-12-31"},
		{"HCPCS TERM DT on the date", termed, date(2024, 12, 31), Unknown, ""},
		{"no entries", History{Releases: []Release{fy(2026)}}, date(2025, 1, 1), Unknown, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.h.On(tt.dos)
			if got.State != tt.want || !strings.Contains(got.Explanation, tt.in) || (tt.want == Unknown) != (got.Explanation == "") {
				t.Errorf("On(%s) = %+v, want state %d explaining %q", tt.dos.Format(time.DateOnly), got, tt.want, tt.in)
			}
		})
	}
}

// TestCatalogHistory checks Catalog.History on small hand-made releases.
func TestCatalogHistory(t *testing.T) {
	c := NewCatalog()
	for _, f := range []struct {
		version, body string
	}{
		{"FY2025", orderLine(1, "J209", true) + orderLine(2, "A000", true)},
		{"FY2026", orderLine(1, "J209", true) + orderLine(2, "B8801", true)},
	} {
		rel, _ := NewRelease(ICD10CM, f.version)
		if _, err := c.Load(rel, strings.NewReader(f.body)); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	for code, want := range map[string][]string{"J20.9": {"FY2026", "FY2025"}, "a00.0": {"FY2025"}, "B88.01": {"FY2026"}, "Q99": nil} {
		h, err := c.History(ctx, ICD10CM, code)
		if err != nil || len(h.Releases) != 2 || h.Releases[0].Version != "FY2026" {
			t.Fatalf("History(%s) = %+v, %v; want both releases, newest first", code, h, err)
		}
		var got []string
		for _, e := range h.Entries {
			got = append(got, e.Release.Version)
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("History(%s) entries in %v, want %v", code, got, want)
		}
	}
	if h, err := c.History(ctx, ICD10PCS, "0016070"); err != nil || len(h.Releases)+len(h.Entries) != 0 {
		t.Errorf("History with no release of the system = %+v, %v; want empty", h, err)
	}
}

// orderLine is one line of a CMS order file (hand-made test content).
func orderLine(n int, code string, billable bool) string {
	flag := "0"
	if billable {
		flag = "1"
	}
	title := "Test title " + code
	return pad(itoa(n), 5, '0') + " " + pad(code, 7, ' ') + " " + flag + " " + pad(title, 60, ' ') + " " + title + "\n"
}

func itoa(n int) string { return strconv.Itoa(n) }

// pad pads s to n: zeros on the left, blanks on the right.
func pad(s string, n int, with byte) string {
	p := strings.Repeat(string(with), max(n-len(s), 0))
	if with == '0' {
		return p + s
	}
	return s + p
}
