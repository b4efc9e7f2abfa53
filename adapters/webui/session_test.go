package webui

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSignIn(t *testing.T) {
	tests := []struct {
		name   string
		token  string
		noForm bool // post without the sign-in form's own token
		want   int
		loc    string
	}{
		{"coder", "tok-alice", false, http.StatusSeeOther, "/ui/"},
		{"auditor", "tok-audrey", false, http.StatusSeeOther, "/ui/"},
		{"unknown token", "tok-nobody", false, http.StatusUnauthorized, ""},
		{"role without workbench", "tok-bill", false, http.StatusForbidden, ""},
		{"forged form", "tok-alice", true, http.StatusForbidden, ""},
	}
	for _, tt := range tests {
		tb := newTestbed(t)
		c := tb.client()
		var w = c.do("POST", "/ui/login", url.Values{"_login": {"forged"}, "token": {tt.token}})
		if !tt.noForm {
			w = c.signIn(tt.token)
		}
		if w.Code != tt.want || w.Header().Get("Location") != tt.loc {
			t.Errorf("%s: sign-in = %d to %q, want %d to %q", tt.name, w.Code, w.Header().Get("Location"), tt.want, tt.loc)
		}
		ck, ok := c.cookies[sessionCookie]
		if ok != (tt.want == http.StatusSeeOther) {
			t.Errorf("%s: session cookie set = %v", tt.name, ok)
			continue
		}
		if !ok {
			continue
		}
		got := []any{ck.HttpOnly, ck.SameSite, ck.Path, ck.Secure}
		if diff := cmp.Diff([]any{true, http.SameSiteStrictMode, "/ui/", false}, got); diff != "" {
			t.Errorf("%s: cookie attributes (HttpOnly, SameSite, Path, Secure): mismatch (-want +got):\n%s", tt.name, diff)
		}
		if _, stored := tb.state.sessions[sessionHash(ck.Value)]; !stored {
			t.Errorf("%s: the session is not stored under the hash of its id", tt.name)
		}
		if _, plain := tb.state.sessions[ck.Value]; plain {
			t.Errorf("%s: the session id itself is stored", tt.name)
		}
	}
}

func TestSecureCookieOption(t *testing.T) {
	tb := newTestbed(t)
	tb.h.o.SecureCookie = true
	c := tb.client()
	c.signIn("tok-alice")
	if ck := c.cookies[sessionCookie]; ck == nil || !ck.Secure {
		t.Fatalf("session cookie %+v is not Secure with SecureCookie", ck)
	}
}

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	tb := newTestbed(t)
	c := tb.client()
	anon := tb.client()
	c.signIn("tok-alice")
	requests := []struct {
		c      *client
		method string
		path   string
		status int
	}{
		{anon, "GET", "/ui/login", 200},
		{anon, "GET", "/ui/", http.StatusSeeOther},
		{c, "GET", "/ui/", 200},
		{c, "GET", "/ui/items/wi-1", 200},
		{c, "GET", "/ui/items/nope", 404},
		{c, "GET", "/ui/nowhere", 404},
		{c, "GET", "/ui/codes/search?system=icd10cm&q=j20", 200},
		{c, "GET", "/ui/static/app.js", 200},
	}
	for _, r := range requests {
		w := r.c.do(r.method, r.path, nil)
		h := w.Header()
		got := map[string]string{"status": itoa(w.Code), "Cache-Control": h.Get("Cache-Control"), "X-Frame-Options": h.Get("X-Frame-Options"),
			"Referrer-Policy": h.Get("Referrer-Policy"), "frame-ancestors": itoa(strings.Count(h.Get("Content-Security-Policy"), "frame-ancestors 'none'"))}
		want := map[string]string{"status": itoa(r.status), "Cache-Control": "no-store", "X-Frame-Options": "DENY",
			"Referrer-Policy": "no-referrer", "frame-ancestors": "1"}
		if strings.HasPrefix(r.path, "/ui/static/") {
			want["Cache-Control"] = "no-cache" // assets hold no PHI; versioned URLs may be cached for long
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s %s: mismatch (-want +got):\n%s", r.method, r.path, diff)
		}
		if csp := h.Get("Content-Security-Policy"); strings.Contains(csp, "unsafe") {
			t.Errorf("%s: CSP allows unsafe sources: %s", r.path, csp)
		}
	}
	w := c.do("GET", "/ui/static/app.js?v="+tb.h.assets.version, nil)
	if cc := w.Header().Get("Cache-Control"); !strings.Contains(cc, "immutable") {
		t.Errorf("versioned asset Cache-Control = %q", cc)
	}
}

func TestCSRF(t *testing.T) {
	tb := newTestbed(t)
	c := tb.client()
	c.signIn("tok-alice")
	c.do("GET", "/ui/", nil) // reads the page's token
	tests := []struct {
		name    string
		form    url.Values
		headers []string
		want    int
	}{
		{"no token", url.Values{}, nil, http.StatusForbidden},
		{"wrong token", url.Values{csrfField: {"x" + c.csrf}}, nil, http.StatusForbidden},
		{"cross-site even with the token", url.Values{csrfField: {c.csrf}}, []string{"Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
		{"form field", url.Values{csrfField: {c.csrf}}, nil, http.StatusSeeOther},
		{"htmx header", url.Values{}, []string{csrfHeader, c.csrf, "HX-Request", "true", "Sec-Fetch-Site", "same-origin"}, http.StatusNoContent},
	}
	for _, tt := range tests {
		w := c.do("POST", "/ui/next", tt.form, tt.headers...)
		if w.Code != tt.want {
			t.Errorf("%s: POST /ui/next = %d, want %d", tt.name, w.Code, tt.want)
		}
	}
	if got := len(tb.items.items["wi-1"].Assignee); got == 0 {
		t.Error("no lease was taken by the accepted requests")
	}
}

func TestIdleTimeout(t *testing.T) {
	tb := newTestbed(t)
	c := tb.client()
	c.signIn("tok-alice")
	tb.now = tb.now.Add(14 * time.Minute)
	if w := c.do("GET", "/ui/", nil); w.Code != 200 {
		t.Fatalf("worklist 14 minutes in = %d", w.Code)
	}
	// The status check tells the time left, and does not count as activity.
	tb.now = tb.now.Add(10 * time.Minute)
	if w := c.do("GET", "/ui/session/status", nil); w.Code != 200 || !strings.Contains(w.Body.String(), `"remaining":300`) {
		t.Errorf("status = %d %s, want 300 s left", w.Code, w.Body.String())
	}
	tb.now = tb.now.Add(5*time.Minute + time.Second)
	w := c.do("GET", "/ui/codes/search?system=icd10cm&q=x", nil, "HX-Request", "true")
	if w.Code != http.StatusUnauthorized || w.Header().Get("HX-Redirect") != "/ui/login?expired=1" {
		t.Errorf("htmx request after the idle timeout = %d, HX-Redirect %q", w.Code, w.Header().Get("HX-Redirect"))
	}
	if w := c.do("GET", "/ui/", nil); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/ui/login" {
		t.Errorf("worklist after log-off = %d to %q", w.Code, w.Header().Get("Location"))
	}
	if w := c.do("GET", "/ui/login?expired=1", nil); !strings.Contains(w.Body.String(), "signed out after 15 minutes without activity") {
		t.Errorf("sign-in page after log-off does not say why:\n%s", w.Body.String())
	}
}

func TestExtendAndLogout(t *testing.T) {
	tb := newTestbed(t)
	c := tb.client()
	c.signIn("tok-alice")
	c.do("GET", "/ui/", nil)
	tb.now = tb.now.Add(14 * time.Minute)
	if w := c.do("POST", "/ui/session/extend", url.Values{}, csrfHeader, c.csrf); w.Code != 200 {
		t.Fatalf("extend = %d", w.Code)
	}
	tb.now = tb.now.Add(14 * time.Minute)
	if w := c.do("GET", "/ui/", nil); w.Code != 200 {
		t.Fatalf("worklist after extending = %d", w.Code)
	}
	w := c.do("POST", "/ui/logout", url.Values{csrfField: {c.csrf}})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/ui/login?bye=1" {
		t.Errorf("logout = %d to %q", w.Code, w.Header().Get("Location"))
	}
	if _, ok := c.cookies[sessionCookie]; ok {
		t.Error("the session cookie survived sign-out")
	}
}

func TestRoles(t *testing.T) {
	tb := newTestbed(t)
	coder, auditor := tb.client(), tb.client()
	coder.signIn("tok-alice")
	auditor.signIn("tok-audrey")
	auditor.do("GET", "/ui/", nil)
	tests := []struct {
		c      *client
		method string
		path   string
		want   int
	}{
		{coder, "GET", "/ui/dashboard", http.StatusForbidden},
		{auditor, "GET", "/ui/dashboard", 200},
		{auditor, "POST", "/ui/next", http.StatusForbidden},
		{auditor, "GET", "/ui/items/wi-1/query", http.StatusForbidden},
		{auditor, "GET", "/ui/items/wi-2", 200},
	}
	for _, tt := range tests {
		var form url.Values
		if tt.method == "POST" {
			form = url.Values{csrfField: {tt.c.csrf}}
		}
		if w := tt.c.do(tt.method, tt.path, form); w.Code != tt.want {
			t.Errorf("%s %s = %d, want %d", tt.method, tt.path, w.Code, tt.want)
		}
	}
}

func TestReturnToLastChart(t *testing.T) {
	tb := newTestbed(t)
	c := tb.client()
	c.signIn("tok-alice")
	c.do("GET", "/ui/", nil)
	if w := c.do("POST", "/ui/next", url.Values{csrfField: {c.csrf}}); w.Header().Get("Location") != "/ui/items/wi-1" {
		t.Fatalf("next = %d to %q", w.Code, w.Header().Get("Location"))
	}
	c.do("GET", "/ui/items/wi-1", nil)
	tb.now = tb.now.Add(time.Hour) // idle: logged off
	c2 := tb.client()
	if w := c2.signIn("tok-alice"); w.Header().Get("Location") != "/ui/items/wi-1" {
		t.Errorf("sign-in after log-off went to %q, want the chart", w.Header().Get("Location"))
	}
	// Another coder who never opened it lands on the worklist.
	c3 := tb.client()
	if w := c3.signIn("tok-audrey"); w.Header().Get("Location") != "/ui/" {
		t.Errorf("auditor sign-in went to %q", w.Header().Get("Location"))
	}
}
