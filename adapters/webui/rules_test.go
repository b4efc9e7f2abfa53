package webui

import (
	"net/url"
	"strings"
	"testing"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// TestEditRuleShown: an edit that names its rule shows the source beside
// the codes and lets the coder open the rule's words (a native
// <details>, keyboard-operable, its summary naming the edit for a screen
// reader), on the chart, in the live pane and on the review page; the
// rule's words are escaped. An edit without a rule shows no rule.
func TestEditRuleShown(t *testing.T) {
	tb := newTestbed(t)
	edits := []workitem.Edit{
		{Code: "GL_Z_FIRST_LISTED_ONLY", Severity: "error", Message: "ICD-10-CM Z38.00 may only be the principal or first-listed diagnosis",
			Target: "diagnoses[1]", Rule: "ICD-10-CM Official Guidelines for Coding and Reporting FY2026, section I.C.21.c.15",
			RuleText: "The following Z codes may only be reported as the principal/first-listed diagnosis: <Z38> Liveborn infants"},
		{Code: "CPT_UNVERIFIED", Severity: "warning", Message: "checked by format only"},
	}
	tb.items.edits = edits
	it := tb.items.items["wi-1"]
	it.Edits = edits
	tb.items.items["wi-1"] = it
	c := tb.client()
	c.signIn("tok-alice")
	c.do("GET", "/ui/", nil)
	c.do("POST", "/ui/next", url.Values{csrfField: {c.csrf}})

	wants := []string{
		`<span class="rule-source">Rule: <cite>ICD-10-CM Official Guidelines for Coding and Reporting FY2026, section I.C.21.c.15</cite></span>`,
		`<details class="rule-text"><summary>Read the rule<span class="visually-hidden"> for GL_Z_FIRST_LISTED_ONLY at diagnoses[1]</span></summary>`,
		`<blockquote>The following Z codes may only be reported as the principal/first-listed diagnosis: &lt;Z38&gt; Liveborn infants</blockquote>`,
	}
	pages := map[string]string{
		"chart":  c.do("GET", "/ui/items/wi-1", nil).Body.String(),
		"pane":   c.do("POST", "/ui/items/wi-1/codes", codeForm(c, "3", "ln_units", "1"), "HX-Request", "true").Body.String(),
		"review": c.do("GET", "/ui/items/wi-1/review", nil).Body.String(),
		// The result page of a submit lists the error edits that still
		// block the Claim, each with its rule.
		"result": c.do("GET", "/ui/items/wi-1/review?result=submitted", nil).Body.String(),
	}
	for name, body := range pages {
		for _, want := range wants {
			if !strings.Contains(body, want) {
				t.Errorf("%s lacks %q:\n%s", name, want, body)
			}
		}
		if n := strings.Count(body, `class="edit-rule"`); n != 1 {
			t.Errorf("%s shows %d rules, want 1 (CPT_UNVERIFIED names none)", name, n)
		}
	}
}
