package webui

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/codebridge/codebridge/mapping/workitem"
)

var (
	titleRE = regexp.MustCompile(`<title>([^<]*)</title>`)
	urlRE   = regexp.MustCompile(`(?:href|action|hx-get|hx-post|src)="([^"]*)"`)
)

// TestPagesKeepPHIOutOfTitlesAndURLs renders every screen and checks it
// shows the patient only in the page body.
func TestPagesKeepPHIOutOfTitlesAndURLs(t *testing.T) {
	tb := newTestbed(t)
	coder, auditor := tb.client(), tb.client()
	coder.signIn("tok-alice")
	auditor.signIn("tok-audrey")
	coder.do("GET", "/ui/", nil)
	if w := coder.do("POST", "/ui/next", url.Values{csrfField: {coder.csrf}}); w.Code != http.StatusSeeOther {
		t.Fatalf("next = %d", w.Code)
	}
	pages := []struct {
		c           *client
		path, title string
		patient     bool
	}{
		{tb.client(), "/ui/login", "Sign in", false},
		{coder, "/ui/", "Worklist", true},
		{coder, "/ui/items/wi-1", "Chart", true},
		{coder, "/ui/items/wi-1/review", "Review and submit", true},
		{coder, "/ui/items/wi-1/query", "Physician query", false},
		{coder, "/ui/settings", "Settings", false},
		{auditor, "/ui/items/wi-2", "Chart", true},
		{auditor, "/ui/items/wi-2/review", "Review and submit", true},
		{auditor, "/ui/dashboard", "Dashboards", false},
	}
	for _, p := range pages {
		w := p.c.do("GET", p.path, nil)
		body := w.Body.String()
		if w.Code != 200 {
			t.Errorf("%s = %d:\n%s", p.path, w.Code, body)
			continue
		}
		m := titleRE.FindStringSubmatch(body)
		if m == nil || m[1] != p.title+" · codebridge workbench" {
			t.Errorf("%s: title %v, want %q", p.path, m, p.title)
		}
		for _, u := range urlRE.FindAllStringSubmatch(body, -1) {
			if strings.Contains(u[1], "Zed") || strings.Contains(u[1], "Quixote") {
				t.Errorf("%s: a URL names the patient: %s", p.path, u[1])
			}
		}
		if got := strings.Contains(body, patientName); got != p.patient {
			t.Errorf("%s: shows the patient = %v, want %v", p.path, got, p.patient)
		}
		if strings.Contains(body, " style=") || strings.Contains(body, "<style") || regexp.MustCompile(`<script>`).MatchString(body) {
			t.Errorf("%s: inline style or script, which the CSP forbids", p.path)
		}
	}
}

// codeForm is the code pane of wi-1 as a browser would post it.
func codeForm(c *client, version string, extra ...string) url.Values {
	f := url.Values{csrfField: {c.csrf}, "version": {version}, "dx_code": {"J20.9"}, "dx_poa": {""}, "dx_display": {"J20.9|Acute bronchitis"},
		"ln_code": {"99213"}, "ln_mods": {"95"}, "ln_units": {"1"}, "ln_ptrs": {"1"}, "ln_display": {""}}
	for i := 0; i+1 < len(extra); i += 2 {
		f.Set(extra[i], extra[i+1])
	}
	return f
}

func TestLiveSave(t *testing.T) {
	tb := newTestbed(t)
	tb.items.edits = []workitem.Edit{{Code: "CPT_UNVERIFIED", Severity: "warning", Message: "checked by format only"}}
	c := tb.client()
	c.signIn("tok-alice")
	c.do("GET", "/ui/", nil)
	c.do("POST", "/ui/next", url.Values{csrfField: {c.csrf}}) // wi-1, version 3
	htmx := []string{"HX-Request", "true"}

	// Typing a value that cannot be read: nothing reaches the stored codes
	// (the line is not dropped from them), the draft keeps what was typed.
	w := c.do("POST", "/ui/items/wi-1/codes", codeForm(c, "3", "ln_units", "2x"), htmx...)
	body := w.Body.String()
	for _, want := range []string{"units must be a whole number", "Draft saved"} {
		if !strings.Contains(body, want) {
			t.Errorf("typing save lacks %q:\n%s", want, body)
		}
	}
	if len(tb.items.saved) != 0 {
		t.Errorf("a save with a field error reached the store: %+v", tb.items.saved)
	}
	var d draft
	_ = json.Unmarshal(tb.state.drafts["alice/wi-1"], &d)
	if d.Version != 3 || len(d.Lines) != 1 || d.Lines[0].Units != "2x" {
		t.Errorf("draft = %+v, want version 3 with units 2x", d)
	}
	if page := c.do("GET", "/ui/items/wi-1", nil).Body.String(); !strings.Contains(page, `id="ln-0-units" name="ln_units" value="2x"`) {
		t.Errorf("chart does not show the draft's units")
	}

	// Fixed: the edits come back with the new version, out of band.
	w = c.do("POST", "/ui/items/wi-1/codes", codeForm(c, "3", "ln_units", "2"), htmx...)
	body = w.Body.String()
	for _, want := range []string{"CPT_UNVERIFIED", `id="version" name="version" value="4" hx-swap-oob="true"`, "Draft saved"} {
		if !strings.Contains(body, want) {
			t.Errorf("typing save lacks %q:\n%s", want, body)
		}
	}
	if len(tb.items.saved) != 1 || len(tb.items.saved[0].Lines) != 1 || tb.items.saved[0].Lines[0].Units != 2 {
		t.Errorf("saved through the store: %+v, want the line with 2 units", tb.items.saved)
	}

	// Adding from the search re-renders the pane, focus back on the search.
	w = c.do("POST", "/ui/items/wi-1/codes", codeForm(c, "4", "action", "add", "add_system", "icd10cm", "add_code", "I10", "add_display", "Essential hypertension"), htmx...)
	if w.Header().Get("HX-Retarget") != "#code-pane" || !strings.Contains(w.Body.String(), `id="dx-1-code" name="dx_code" value="I10"`) ||
		!strings.Contains(w.Body.String(), `data-focus="code-q"`) {
		t.Errorf("add = %q:\n%s", w.Header().Get("HX-Retarget"), w.Body.String())
	}

	// A stale version (another tab saved) is refused, and the draft keeps
	// what was typed.
	w = c.do("POST", "/ui/items/wi-1/codes", codeForm(c, "3", "dx_code", "Z00.00"), htmx...)
	_ = json.Unmarshal(tb.state.drafts["alice/wi-1"], &d)
	if !strings.Contains(w.Body.String(), "reload the page") || len(d.Diagnoses) != 1 || d.Diagnoses[0].Code != "Z00.00" {
		t.Errorf("stale save: %s; draft: %+v", w.Body.String(), d)
	}
}

func TestSubmit(t *testing.T) {
	tb := newTestbed(t)
	c := tb.client()
	c.signIn("tok-alice")
	c.do("GET", "/ui/", nil)
	c.do("POST", "/ui/next", url.Values{csrfField: {c.csrf}})
	tb.state.drafts["alice/wi-1"] = []byte(`{"version":3}`)
	tb.items.submit = workitem.Errorf(workitem.Unprocessable, "error edits stand; fix them before submitting").
		WithIssues(workitem.Issue{Severity: "error", Code: "DX_HEADER", Diagnostics: "J20 is a header"})
	w := c.do("POST", "/ui/items/wi-1/submit", url.Values{csrfField: {c.csrf}})
	if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), `id="refusal"`) || !strings.Contains(w.Body.String(), "DX_HEADER") {
		t.Errorf("refused submit = %d:\n%s", w.Code, w.Body.String())
	}
	tb.items.submit = nil
	// A submit redirects to its result page, so reloading never posts it again.
	w = c.do("POST", "/ui/items/wi-1/submit", url.Values{csrfField: {c.csrf}, "ack": {"on"}})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/ui/items/wi-1/review?result=submitted" {
		t.Errorf("submit = %d to %q, want 303 to the result page", w.Code, w.Header().Get("Location"))
	}
	if w := c.do("GET", "/ui/items/wi-1/review?result=submitted", nil); w.Code != 200 || !strings.Contains(w.Body.String(), "<h1>Submitted</h1>") {
		t.Errorf("result page = %d:\n%s", w.Code, w.Body.String())
	}
	if _, ok := tb.state.drafts["alice/wi-1"]; ok {
		t.Error("the draft outlived the submit")
	}
}

func TestQueryComposer(t *testing.T) {
	tb := newTestbed(t)
	c := tb.client()
	c.signIn("tok-alice")
	c.do("GET", "/ui/", nil)
	c.do("POST", "/ui/next", url.Values{csrfField: {c.csrf}})
	form := func(extra string) url.Values {
		return url.Values{csrfField: {c.csrf}, "question": {"Please clarify the type of bronchitis."}, "indicator": {"Documented: Acute bronchitis, unspecified"},
			"extra": {extra}, "option": {"Acute bronchitis due to RSV", "Acute bronchitis, organism unknown", ""}}
	}
	if w := c.do("POST", "/ui/items/wi-1/query", form("Clarify for reimbursement")); w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), "must not mention payment") {
		t.Errorf("query about reimbursement = %d", w.Code)
	}
	w := c.do("POST", "/ui/items/wi-1/query", form("Cough for 5 days"))
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/ui/items/wi-1?msg=query-sent" {
		t.Fatalf("compliant query = %d to %q:\n%s", w.Code, w.Header().Get("Location"), w.Body.String())
	}
	want := []workitem.Query{{Question: "Please clarify the type of bronchitis.",
		Indicators: []string{"Documented: Acute bronchitis, unspecified", "Cough for 5 days"},
		Options:    []string{"Acute bronchitis due to RSV", "Acute bronchitis, organism unknown", otherOption}}}
	if diff := cmp.Diff(want, tb.items.queries); diff != "" {
		t.Errorf("query sent: mismatch (-want +got):\n%s", diff)
	}
}

func TestCheckQuery(t *testing.T) {
	tests := []struct {
		name string
		q    workitem.Query
		want int // number of problems
	}{
		{"compliant open question", workitem.Query{Question: "Please clarify.", Indicators: []string{"WBC 14.2"}}, 0},
		{"no indicators", workitem.Query{Question: "Please clarify."}, 1},
		{"no question", workitem.Query{Indicators: []string{"WBC 14.2"}}, 1},
		{"one choice besides other", workitem.Query{Question: "Which?", Indicators: []string{"x"}, Options: []string{"A", otherOption}}, 1},
		{"DRG", workitem.Query{Question: "This changes the DRG: please clarify.", Indicators: []string{"x"}}, 1},
		{"dollar sign", workitem.Query{Question: "Please clarify.", Indicators: []string{"worth $2,000"}}, 1},
		{"clinical words that look like money words", workitem.Query{Question: "Costophrenic angle blunted?", Indicators: []string{"CXR"}}, 0},
	}
	for _, tt := range tests {
		if got := checkQuery(tt.q); len(got) != tt.want {
			t.Errorf("%s: %d problems %v, want %d", tt.name, len(got), got, tt.want)
		}
	}
}

// TestStraightThroughInWorkbench: the worklist filters on "left by the
// straight-through coder", and the dashboard shows the automatic share
// of completed charts and the straight-through pass rate (README names)
// with its reasons, linking to the charts left.
func TestStraightThroughInWorkbench(t *testing.T) {
	tb := newTestbed(t)
	coder, auditor := tb.client(), tb.client()
	coder.signIn("tok-alice")
	auditor.signIn("tok-audrey")
	if w := coder.do("GET", "/ui/?status=ready&autocode=skipped", nil); w.Code != 200 ||
		!strings.Contains(w.Body.String(), `<option value="skipped" selected>Left by the straight-through coder`) {
		t.Fatalf("worklist = %d, the filter not shown as chosen:\n%s", w.Code, w.Body)
	}
	tb.state.mu.Lock()
	got := tb.state.filters[0].AutoCode
	tb.state.mu.Unlock()
	if got != "skipped" {
		t.Errorf("worklist filter AutoCode = %q, want skipped", got)
	}
	if w := coder.do("GET", "/ui/?autocode=maybe", nil); !strings.Contains(w.Body.String(), "Straight-through: choose one from the list.") {
		t.Errorf("a bad straight-through filter is not named:\n%s", w.Body)
	}
	body := auditor.do("GET", "/ui/dashboard", nil).Body.String()
	for _, want := range []string{"25.0%", "1 of 4", "/ui/?status=ready&amp;autocode=skipped", "RANK_TIE", "DX_NOT_CONFIRMED", "Why charts were left to coders",
		"automatic share of completed charts", "straight-through pass rate"} {
		if !strings.Contains(body, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
}
