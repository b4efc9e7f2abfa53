package webui

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// update changes a fake item as the store would (e.g. the EHR rebuilt
// its chart, bumping the version).
func (f *fakeItems) update(id string, change func(*workitem.Item)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	it := f.items[id]
	change(&it)
	f.items[id] = it
}

// TestDraftKeptWhenChartChanges: the EHR updates the chart being coded
// (its version moves on); the next autosave is refused, but the draft is
// saved, the coder is told, and reloading restores the draft on the new
// version, from which saving works again.
func TestDraftKeptWhenChartChanges(t *testing.T) {
	tb := newTestbed(t)
	c := tb.client()
	c.signIn("tok-alice")
	c.do("GET", "/ui/", nil)
	c.do("POST", "/ui/next", url.Values{csrfField: {c.csrf}}) // wi-1, version 3
	htmx := []string{"HX-Request", "true"}
	c.do("POST", "/ui/items/wi-1/codes", codeForm(c, "3"), htmx...) // saved: version 4
	tb.items.update("wi-1", func(it *workitem.Item) { it.Version += 2 })

	w := c.do("POST", "/ui/items/wi-1/codes", codeForm(c, "4", "dx_code", "Z00.00"), htmx...)
	if !strings.Contains(w.Body.String(), chartChangedSave) {
		t.Errorf("refused autosave does not say the chart changed:\n%s", w.Body.String())
	}
	var d draft
	if err := json.Unmarshal(tb.state.drafts["alice/wi-1"], &d); err != nil || len(d.Diagnoses) != 1 || d.Diagnoses[0].Code != "Z00.00" {
		t.Fatalf("draft after the refused autosave = %+v (%v), want Z00.00", d, err)
	}
	page := c.do("GET", "/ui/items/wi-1", nil).Body.String()
	for _, want := range []string{`id="dx-0-code" name="dx_code" value="Z00.00"`, `name="version" value="6"`, chartChangedKept} {
		if !strings.Contains(page, want) {
			t.Errorf("reloaded chart lacks %q", want)
		}
	}
	c.do("POST", "/ui/items/wi-1/codes", codeForm(c, "6", "dx_code", "Z00.00"), htmx...)
	got := tb.items.saved[len(tb.items.saved)-1].Diagnoses
	if diff := cmp.Diff([]workitem.AssignedDiagnosis{{Code: "Z00.00"}}, got); diff != "" {
		t.Errorf("saved after reload: mismatch (-want +got):\n%s", diff)
	}

	// A draft that only repeats the stored codes gives way to them, quietly.
	tb.items.update("wi-1", func(it *workitem.Item) {
		it.Version++
		it.Codes = &workitem.Assignment{Diagnoses: []workitem.AssignedDiagnosis{{Code: "Z00.00"}},
			Lines: []workitem.AssignedLine{{Code: "99213", Modifiers: []string{"95"}, Units: 1, Diagnoses: []int{1}}}}
	})
	if page := c.do("GET", "/ui/items/wi-1", nil).Body.String(); strings.Contains(page, chartChangedKept) || !strings.Contains(page, `name="version" value="8"`) {
		t.Errorf("a draft equal to the stored codes was reported as kept, or the pane is not at version 8")
	}
}

// TestInstitutionalClassesFromConfig: the pane, the review page and the
// worklist filter follow the configured institutional classes (the claim
// builder's), not a list of their own.
func TestInstitutionalClassesFromConfig(t *testing.T) {
	tests := []struct {
		name             string
		classes          []string
		amb, imp         bool
		reviewImp        string
		ambLabel, nonacL string
	}{
		{"default", nil, false, true, "Institutional (837I / UB-04)", "AMB — professional", "NONAC — professional"},
		{"configured", []string{"AMB", "NONAC", "XINST"}, true, false, "Professional (837P / CMS-1500)", "AMB — institutional", "NONAC — institutional"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := newTestbed(t, func(o *Options) { o.InstitutionalClasses = tt.classes })
			if got := []bool{tb.h.institutional("AMB"), tb.h.institutional("IMP")}; !cmp.Equal(got, []bool{tt.amb, tt.imp}) {
				t.Errorf("institutional(AMB, IMP) = %v, want %v", got, []bool{tt.amb, tt.imp})
			}
			c := tb.client()
			c.signIn("tok-audrey")
			if page := c.do("GET", "/ui/items/wi-2/review", nil).Body.String(); !strings.Contains(page, tt.reviewImp) {
				t.Errorf("review of the IMP stay lacks %q", tt.reviewImp)
			}
			page := c.do("GET", "/ui/?class=XINST", nil).Body.String()
			for _, want := range []string{">" + tt.ambLabel + "<", ">" + tt.nonacL + "<"} {
				if !strings.Contains(page, want) {
					t.Errorf("worklist class filter lacks %q", want)
				}
			}
			if refused := strings.Contains(page, "Class: choose one from the list."); refused != (tt.classes == nil) {
				t.Errorf("filter by the configured class XINST refused = %v", refused)
			}
		})
	}
}

// TestPaneDateFromClock: a chart without a service date searches the
// codes in force on the handler's clock, not the machine's.
func TestPaneDateFromClock(t *testing.T) {
	tb := newTestbed(t)
	tb.now = time.Date(2025, 12, 31, 23, 0, 0, 0, time.UTC)
	tb.items.update("wi-1", func(it *workitem.Item) { it.ServiceStart = nil })
	c := tb.client()
	c.signIn("tok-alice")
	c.do("GET", "/ui/", nil)
	c.do("POST", "/ui/next", url.Values{csrfField: {c.csrf}})
	if page := c.do("GET", "/ui/items/wi-1", nil).Body.String(); !strings.Contains(page, `id="code-date" name="date" value="2025-12-31"`) {
		t.Errorf("pane date is not the handler's clock")
	}
}

// TestAddSuggestionFromPane: adding the EHR's suggested charge through
// the pane keeps its modifiers, units, pointers and service date, and
// saves them.
func TestAddSuggestionFromPane(t *testing.T) {
	tb := newTestbed(t)
	tb.items.update("wi-1", func(it *workitem.Item) {
		ch := *it.Chart
		ch.SuggestedCodes = append(ch.SuggestedCodes[:1:1], workitem.SuggestedCode{System: "cpt", Code: "94640", Kind: "procedure",
			Modifiers: []string{"76"}, Units: 2, Diagnoses: []int{1}, ServiceDate: "2026-03-09"})
		it.Chart = &ch
	})
	c := tb.client()
	c.signIn("tok-alice")
	c.do("GET", "/ui/", nil)
	c.do("POST", "/ui/next", url.Values{csrfField: {c.csrf}})
	f := url.Values{csrfField: {c.csrf}, "version": {"3"}, "dx_code": {"J20.9"}, "dx_poa": {""}, "dx_display": {""}, "action": {"suggest:cpt:94640"}}
	c.do("POST", "/ui/items/wi-1/codes", f, "HX-Request", "true")
	want := []workitem.AssignedLine{{Code: "94640", Modifiers: []string{"76"}, Units: 2, Diagnoses: []int{1}, ServiceDate: "2026-03-09"}}
	if len(tb.items.saved) != 1 {
		t.Fatalf("%d saves, want 1", len(tb.items.saved))
	}
	if diff := cmp.Diff(want, tb.items.saved[0].Lines); diff != "" {
		t.Errorf("saved line: mismatch (-want +got):\n%s", diff)
	}
}
