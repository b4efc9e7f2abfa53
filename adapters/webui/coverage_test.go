package webui

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/codebridge/codebridge/mapping/codes"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// TestCodeSetBannerForAdmins: the dashboard shows an admin a banner naming
// each code set no release covers today, with the release to load and the
// command; an auditor's dashboard has none, nor has an admin's when every
// code set is covered or the coverage cannot be read.
func TestCodeSetBannerForAdmins(t *testing.T) {
	today := time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC)
	var rels []codes.Release
	for _, v := range []struct {
		s codes.System
		v string
	}{{codes.ICD10CM, "FY2027"}, {codes.ICD10PCS, "FY2026"}, {codes.POAExemptList, "FY2027"}, {codes.HCPCS, "2026-Oct"},
		{codes.CPT, "2026"}, {codes.MUETable, "2026Q4"}} {
		r, err := codes.NewRelease(v.s, v.v)
		if err != nil {
			t.Fatal(err)
		}
		rels = append(rels, r)
	}
	var fail bool
	tb := newTestbed(t, func(o *Options) {
		auth := o.Authenticate
		o.Authenticate = func(ctx context.Context, tok string) (Principal, error) {
			if tok == "tok-root" {
				return Principal{"root", workitem.RoleAdmin}, nil
			}
			return auth(ctx, tok)
		}
		o.CodeSets = func(context.Context) (time.Time, []codes.SystemCoverage, error) {
			if fail {
				return time.Time{}, nil, errors.New("database down")
			}
			return today, codes.Coverage(rels, today), nil
		}
	})
	admin, auditor := tb.client(), tb.client()
	admin.signIn("tok-root")
	auditor.signIn("tok-audrey")

	w := admin.do("GET", "/ui/dashboard", nil)
	body := w.Body.String()
	if w.Code != 200 || !strings.Contains(body, `id="codeset-coverage"`) {
		t.Fatalf("admin dashboard = %d, no code-set banner:\n%s", w.Code, body)
	}
	for _, want := range []string{
		"No loaded release covers today (2026-12-08) for 2 code sets.",
		`<span class="code">icd10pcs</span>: load icd10pcs FY2027 (2026-10-01..2027-09-30) with <code>codebridge codes fetch --fy 2027</code>`,
		`<span class="code">ptp</span>: load ptp 2026Q4 (2026-10-01..2026-12-31) with <code>codebridge codes load --system ptp --version 2026Q4 FILE</code>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("admin banner lacks %q", want)
		}
	}
	if strings.Contains(body, `<span class="code">icd10cm</span>`) {
		t.Error("the banner names icd10cm, which FY2027 covers")
	}
	if w := auditor.do("GET", "/ui/dashboard", nil); w.Code != 200 || strings.Contains(w.Body.String(), "codeset-coverage") {
		t.Errorf("auditor dashboard = %d, shows the admin's code-set banner", w.Code)
	}
	fail = true
	if w := admin.do("GET", "/ui/dashboard", nil); w.Code != 200 || strings.Contains(w.Body.String(), "codeset-coverage") {
		t.Errorf("coverage unreadable: admin dashboard = %d, want 200 without the banner", w.Code)
	}
	fail = false
	for _, v := range []struct {
		s codes.System
		v string
	}{{codes.ICD10PCS, "FY2027"}, {codes.PTPTable, "2026Q4"}} {
		r, _ := codes.NewRelease(v.s, v.v)
		rels = append(rels, r)
	}
	if w := admin.do("GET", "/ui/dashboard", nil); w.Code != 200 || strings.Contains(w.Body.String(), "codeset-coverage") {
		t.Errorf("every code set covered: admin dashboard = %d, still a banner", w.Code)
	}
}
