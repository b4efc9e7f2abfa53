package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/adapters/postgres/pgtest"
	"github.com/codebridge/codebridge/config"
	"github.com/codebridge/codebridge/mapping/codes"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// workbenchTokens are the users of the workbench tests.
var workbenchTokens = []config.Token{
	{Name: "alice", Role: workitem.RoleCoder, Value: "wb-alice-token"},
	{Name: "bob", Role: workitem.RoleCoder, Value: "wb-bob-token-1"},
	{Name: "audrey", Role: workitem.RoleAuditor, Value: "wb-audrey-token"},
	{Name: "ehr1", Role: workitem.RoleEHR, Value: ehrTok},
	{Name: "root", Role: workitem.RoleAdmin, Value: "wb-admin-token"},
	{Name: "bill", Role: workitem.RoleBiller, Value: "wb-biller-token"},
}

// workbenchConfig is the configuration of the workbench tests: no QA
// sampling (only inpatient stays go to review) and a billing provider for
// charts whose Encounter names none.
func workbenchConfig(c *config.Config) {
	c.Tokens = workbenchTokens
	c.QASampleRate = 0
	c.BillingProvider = "Organization/wb-billing"
}

// loadWorkbenchCodes loads what the workbench scenarios code with: the
// bundled FY2026 ICD-10-CM chapters E, I, J, K, N and R, the ICD-10-PCS
// resections of the digestive system (0DT), and the test CPT numbers for
// 2025 and 2026 — a few seconds instead of the full sets' minute.
func loadWorkbenchCodes(t testing.TB, m *Main) {
	t.Helper()
	cs := postgres.NewCodeStore(m.DB)
	keep := map[codes.System]func(code string) bool{
		codes.ICD10CM:  func(c string) bool { return strings.ContainsAny(c[:1], "EIJKNR") },
		codes.ICD10PCS: func(c string) bool { return strings.HasPrefix(c, "0DT") },
	}
	for _, b := range codes.Bundled() {
		filter, ok := keep[b.Release.System]
		if !ok {
			continue
		}
		rc, err := b.Open()
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		sc := bufio.NewScanner(rc)
		for sc.Scan() {
			if line := sc.Text(); len(line) > 13 && filter(strings.TrimSpace(line[6:13])) {
				buf.WriteString(line + "\n")
			}
		}
		rc.Close()
		if _, err := cs.LoadRelease(t.Context(), b.Release, &buf, nil); err != nil {
			t.Fatalf("loading %s: %v", b.Name, err)
		}
	}
	cpt, err := os.ReadFile("../../testdata/codesets/cpt_codes_only_extract.txt")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"2025", "2026"} {
		rel, err := codes.NewRelease(codes.CPT, v)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cs.LoadRelease(t.Context(), rel, bytes.NewReader(cpt), nil); err != nil {
			t.Fatalf("loading CPT %s: %v", v, err)
		}
	}
}

// workbenchCharts loads the four sample charts and orders the queue: the
// ED visit, the telehealth visit, the office visit, the inpatient stay. It
// answers their work-item ids by encounter class.
func workbenchCharts(t testing.TB, m *Main) map[string]string {
	t.Helper()
	org := `{"resourceType":"Organization","id":"wb-billing","name":"Workbench Test Hospital","identifier":[{"system":"http://hl7.org/fhir/sid/us-npi","value":"1234567893"}]}`
	if r := send(t, m, "PUT", "/fhir/Organization/wb-billing", []byte(org)); r.code != 201 && r.code != 200 {
		t.Fatalf("billing Organization = %d %s", r.code, r.body)
	}
	for _, f := range []string{"samples/telehealth-visit.json", "../../testdata/bundles/ed-visit.json",
		"../../testdata/bundles/office-visit.json", "../../testdata/bundles/inpatient-stay.json"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if r := send(t, m, "POST", "/fhir", b); r.code != 200 {
			t.Fatalf("%s = %d %s", f, r.code, r.body)
		}
	}
	if _, err := m.DB.Exec(`UPDATE work_items SET priority = CASE class WHEN 'EMER' THEN 950 WHEN 'VR' THEN 900 WHEN 'AMB' THEN 800 ELSE 700 END`); err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	rows, err := m.DB.Query(`SELECT class, id FROM work_items`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var class, id string
		if err := rows.Scan(&class, &id); err != nil {
			t.Fatal(err)
		}
		ids[class] = id
	}
	return ids
}

// workbenchClient is a browser stand-in: a cookie jar and the session's
// CSRF token, read from the pages.
type workbenchClient struct {
	t    *testing.T
	base string
	c    *http.Client
	csrf string
}

var csrfRE = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

func newWorkbenchClient(t *testing.T, m *Main) *workbenchClient {
	jar, _ := cookiejar.New(nil)
	return &workbenchClient{t: t, base: "http://" + m.Addr, c: &http.Client{Jar: jar}}
}

// do sends a request and answers the response and its body.
func (w *workbenchClient) do(method, path string, form url.Values, headers ...string) (*http.Response, string) {
	w.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, w.base+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := w.c.Do(req)
	if err != nil {
		w.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if m := csrfRE.FindStringSubmatch(string(b)); m != nil {
		w.csrf = m[1]
	}
	return resp, string(b)
}

// signIn signs in with token through the sign-in form.
func (w *workbenchClient) signIn(token string) (*http.Response, string) {
	w.t.Helper()
	_, page := w.do("GET", "/ui/login", nil)
	m := regexp.MustCompile(`name="_login" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		w.t.Fatalf("sign-in form without its token: %s", page)
	}
	return w.do("POST", "/ui/login", url.Values{"_login": {m[1]}, "token": {token}})
}

// TestWorkbenchOverHTTP drives the workbench as a browser without scripts
// would, against the real store: sign-in refusals, security headers, CSRF,
// no PHI in titles or URLs, a lease and a code save through the same store
// operations as the API, the audit log, and sign-out.
func TestWorkbenchOverHTTP(t *testing.T) {
	m := startMain(t, pgtest.NewURL(t), workbenchConfig)
	loadWorkbenchCodes(t, m)
	ids := workbenchCharts(t, m)
	w := newWorkbenchClient(t, m)
	w.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	if resp, _ := w.do("GET", "/ui/", nil); resp.StatusCode != 303 || resp.Header.Get("Location") != "/ui/login" {
		t.Fatalf("worklist without a session = %d %s, want 303 to /ui/login", resp.StatusCode, resp.Header.Get("Location"))
	}
	refusals := []struct {
		token string
		want  int
	}{{"wb-biller-token", 403}, {"not-a-token", 401}, {"", 401}}
	for _, r := range refusals {
		if resp, _ := w.signIn(r.token); resp.StatusCode != r.want {
			t.Errorf("sign-in with %q = %d, want %d", r.token, resp.StatusCode, r.want)
		}
	}
	if resp, _ := w.signIn("wb-alice-token"); resp.StatusCode != 303 || resp.Header.Get("Location") != "/ui/" {
		t.Fatalf("sign-in = %d %s, want 303 to /ui/", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, page := w.do("GET", "/ui/", nil)
	checkWorkbenchPage(t, resp, page, "Worklist", "Ana Rivera")

	if resp, _ := w.do("POST", "/ui/next", url.Values{}); resp.StatusCode != 403 {
		t.Errorf("next without the CSRF token = %d, want 403", resp.StatusCode)
	}
	resp, _ = w.do("POST", "/ui/next", url.Values{"_csrf": {w.csrf}})
	if want := "/ui/items/" + ids["EMER"]; resp.StatusCode != 303 || resp.Header.Get("Location") != want {
		t.Fatalf("next = %d %s, want 303 to %s", resp.StatusCode, resp.Header.Get("Location"), want)
	}
	resp, page = w.do("GET", "/ui/items/"+ids["EMER"], nil)
	checkWorkbenchPage(t, resp, page, "Chart", "Chidi Okafor")
	version := regexp.MustCompile(`id="version" name="version" value="(\d+)"`).FindStringSubmatch(page)
	if version == nil {
		t.Fatalf("chart has no editable code pane: %s", page)
	}
	form := url.Values{"_csrf": {w.csrf}, "version": {version[1]}, "dx_code": {"r07.9"}, "dx_poa": {"Y"}, "dx_display": {""},
		"ln_code": {"93010"}, "ln_mods": {""}, "ln_units": {"1"}, "ln_ptrs": {"A"}, "ln_display": {""}}
	if resp, _ := w.do("POST", "/ui/items/"+ids["EMER"]+"/codes", form); resp.StatusCode != 303 {
		t.Fatalf("save codes = %d, want 303", resp.StatusCode)
	}
	var raw []byte
	if err := m.DB.QueryRow(`SELECT codes FROM work_items WHERE id = $1`, ids["EMER"]).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	var stored workitem.Assignment
	if err := json.Unmarshal(raw, &stored); err != nil {
		t.Fatal(err)
	}
	wantCodes := workitem.Assignment{Diagnoses: []workitem.AssignedDiagnosis{{Code: "R07.9", POA: "Y"}},
		Lines: []workitem.AssignedLine{{Code: "93010", Units: 1, Diagnoses: []int{1}}}}
	if diff := cmp.Diff(wantCodes, stored); diff != "" {
		t.Errorf("codes saved through the workbench: mismatch (-want +got):\n%s", diff)
	}
	checkAudited(t, m, ids["EMER"])

	// An edit that applies a classification rule shows the rule's source
	// beside the codes and its words for the coder to read.
	_, page = w.do("GET", "/ui/items/"+ids["EMER"], nil)
	version = regexp.MustCompile(`id="version" name="version" value="(\d+)"`).FindStringSubmatch(page)
	if version == nil {
		t.Fatalf("chart has no editable code pane: %s", page)
	}
	form = url.Values{"_csrf": {w.csrf}, "version": {version[1]}, "dx_code": {"W19.XXXA", "R07.9"}, "dx_poa": {"Y", "Y"}, "dx_display": {"", ""},
		"ln_code": {"93010"}, "ln_mods": {""}, "ln_units": {"1"}, "ln_ptrs": {"B"}, "ln_display": {""}}
	if resp, _ := w.do("POST", "/ui/items/"+ids["EMER"]+"/codes", form); resp.StatusCode != 303 {
		t.Fatalf("save codes = %d, want 303", resp.StatusCode)
	}
	_, page = w.do("GET", "/ui/items/"+ids["EMER"], nil)
	for _, want := range []string{"GL_EXTERNAL_CAUSE_FIRST",
		`Rule: <cite>ICD-10-CM Official Guidelines for Coding and Reporting FY2026, section I.C.20</cite>`,
		`<summary>Read the rule<span class="visually-hidden"> for GL_EXTERNAL_CAUSE_FIRST at diagnoses[0]</span></summary>`,
		`<blockquote>The external causes of morbidity codes should never be sequenced as the first-listed or principal diagnosis.`} {
		if !strings.Contains(page, want) {
			t.Errorf("chart with an external cause code first-listed lacks %q", want)
		}
	}

	resp, _ = w.do("POST", "/ui/logout", url.Values{"_csrf": {w.csrf}})
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/ui/login?bye=1" {
		t.Errorf("sign-out = %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := w.do("GET", "/ui/", nil); resp.StatusCode != 303 {
		t.Errorf("worklist after sign-out = %d, want 303", resp.StatusCode)
	}
	// Signing in again returns to the chart still leased to the coder.
	if resp, _ := w.signIn("wb-alice-token"); resp.Header.Get("Location") != "/ui/items/"+ids["EMER"] {
		t.Errorf("sign-in again went to %s, want the chart", resp.Header.Get("Location"))
	}
}

// checkWorkbenchPage checks a page's status, security headers, and that
// the patient is named in the body but not in the title.
func checkWorkbenchPage(t *testing.T, resp *http.Response, page, title, patient string) {
	t.Helper()
	got := map[string]string{}
	for _, h := range []string{"Cache-Control", "X-Frame-Options", "Referrer-Policy", "X-Content-Type-Options"} {
		got[h] = resp.Header.Get(h)
	}
	want := map[string]string{"Cache-Control": "no-store", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s headers: mismatch (-want +got):\n%s", title, diff)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("%s CSP = %q", title, csp)
	}
	if resp.StatusCode != 200 || !strings.Contains(page, "<title>"+title+" · codebridge workbench</title>") {
		t.Errorf("%s page = %d without its title", title, resp.StatusCode)
	}
	if !strings.Contains(page, patient) {
		t.Errorf("%s page does not show %s", title, patient)
	}
}

// checkAudited checks that the workbench's chart view is in the audit log.
func checkAudited(t *testing.T, m *Main, id string) {
	t.Helper()
	code, body := apiJSON(t, m, "GET", "/api/v1/admin/audit?principal=alice", "wb-admin-token", nil)
	if code != 200 {
		t.Fatalf("audit log = %d %v", code, body)
	}
	for _, e := range body["entries"].([]any) {
		if e := e.(map[string]any); e["workItem"] == id && strings.HasPrefix(e["route"].(string), "/ui") {
			return
		}
	}
	t.Errorf("no audit entry of alice's chart view of %s: %v", id, body)
}
