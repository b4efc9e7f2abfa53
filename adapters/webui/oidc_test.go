package webui

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/codebridge/codebridge/mapping/workitem"
)

const (
	testClientID     = "workbench"
	testClientSecret = "s3cret/with+chars"
	testRedirect     = "https://codebridge.example/ui/oidc/callback"
)

var (
	providerKey = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA() })
	otherKey    = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA() })
)

func mustRSA() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}

// grant is one authorization the fake provider handed out.
type grant struct {
	challenge, nonce string
	used             bool
}

// fakeProvider is an OpenID Connect provider: discovery, JWKS with one
// RSA key, and a token endpoint that checks client authentication, the
// code (once) and the PKCE verifier.
type fakeProvider struct {
	t      *testing.T
	srv    *httptest.Server
	now    func() time.Time
	mu     sync.Mutex
	grants map[string]*grant
	claims func(c jwt.MapClaims)        // edits the ID token's claims
	sign   func(c jwt.MapClaims) string // signs them; nil: RS256 with the published key
	scope  string                       // the token response's granted scopes
	post   bool                         // supports client_secret_post only
}

func newProvider(t *testing.T, now func() time.Time) *fakeProvider {
	p := &fakeProvider{t: t, now: now, grants: map[string]*grant{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		methods := []string{"client_secret_basic", "client_secret_post"}
		if p.post {
			methods = methods[1:]
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": p.srv.URL, "authorization_endpoint": p.srv.URL + "/authorize?tenant=t1",
			"token_endpoint": p.srv.URL + "/token", "jwks_uri": p.srv.URL + "/jwks", "token_endpoint_auth_methods_supported": methods})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		pub := providerKey().PublicKey
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []any{map[string]string{"kty": "RSA", "kid": "k1", "alg": "RS256", "use": "sig",
			"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes())}}})
	})
	mux.HandleFunc("POST /token", p.token)
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

// authorize is the user approving the sign-in the workbench asked for at
// location: it answers the callback URL the provider sends the browser to.
func (p *fakeProvider) authorize(location string) string {
	p.t.Helper()
	u, err := url.Parse(location)
	if err != nil || !strings.HasPrefix(location, p.srv.URL+"/authorize?") {
		p.t.Fatalf("sign-in went to %q, not the provider's authorization endpoint", location)
	}
	q := u.Query()
	got := map[string]string{"response_type": q.Get("response_type"), "client_id": q.Get("client_id"), "redirect_uri": q.Get("redirect_uri"),
		"scope": q.Get("scope"), "code_challenge_method": q.Get("code_challenge_method"), "tenant": q.Get("tenant")}
	want := map[string]string{"response_type": "code", "client_id": testClientID, "redirect_uri": testRedirect,
		"scope": "openid", "code_challenge_method": "S256", "tenant": "t1"}
	if diff := cmp.Diff(want, got); diff != "" {
		p.t.Errorf("authorization request: mismatch (-want +got):\n%s", diff)
	}
	if q.Get("state") == "" || q.Get("nonce") == "" || len(q.Get("code_challenge")) != 43 {
		p.t.Errorf("authorization request without state, nonce or S256 challenge: %v", q)
	}
	code := randomToken()
	p.mu.Lock()
	p.grants[code] = &grant{challenge: q.Get("code_challenge"), nonce: q.Get("nonce")}
	p.mu.Unlock()
	return "/ui/oidc/callback?" + url.Values{"code": {code}, "state": {q.Get("state")}}.Encode()
}

func (p *fakeProvider) token(w http.ResponseWriter, r *http.Request) {
	id, secret, basic := r.BasicAuth()
	id, _ = url.QueryUnescape(id)
	secret, _ = url.QueryUnescape(secret)
	if p.post {
		id, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
		basic = !basic // basic authentication is not supported: refused
	}
	p.mu.Lock()
	g := p.grants[r.PostFormValue("code")]
	ok := g != nil && !g.used
	if ok {
		g.used = true
	}
	p.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
	switch {
	case !basic || id != testClientID || secret != testClientSecret:
		http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
		return
	case !ok || r.PostFormValue("grant_type") != "authorization_code" || r.PostFormValue("redirect_uri") != testRedirect ||
		base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge:
		http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
		return
	}
	now := p.now()
	c := jwt.MapClaims{"iss": p.srv.URL, "aud": testClientID, "sub": "sub-alice", "nonce": g.nonce,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "codebridge_role": "coder"}
	if p.claims != nil {
		p.claims(c)
	}
	sign := p.sign
	if sign == nil {
		sign = func(c jwt.MapClaims) string { return signWith(jwt.SigningMethodRS256, "k1", providerKey(), c) }
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "at-" + randomToken(), "token_type": "Bearer",
		"id_token": sign(c), "scope": p.scope, "expires_in": 3600})
}

func signWith(m jwt.SigningMethod, kid string, key any, c jwt.MapClaims) string {
	t := jwt.NewWithClaims(m, c)
	t.Header["kid"] = kid
	s, err := t.SignedString(key)
	if err != nil {
		panic(err)
	}
	return s
}

// oidcTestbed is a testbed offering OIDC sign-in against a fake provider.
func oidcTestbed(t *testing.T) (*testbed, *fakeProvider) {
	tb := newTestbed(t)
	p := newProvider(t, func() time.Time { return tb.now })
	tb.h.o.OIDC = &OIDC{Issuer: p.srv.URL, ClientID: testClientID, ClientSecret: testClientSecret,
		RedirectURL: testRedirect, HTTPClient: p.srv.Client()}
	return tb, p
}

// oidcSignIn runs the browser's side of the flow up to the callback and
// answers the callback's response and URL.
func (c *client) oidcSignIn(p *fakeProvider) (*httptest.ResponseRecorder, string) {
	c.tb.t.Helper()
	w := c.do("GET", "/ui/oidc/start", nil)
	if w.Code != http.StatusSeeOther {
		c.tb.t.Fatalf("start = %d, want 303:\n%s", w.Code, w.Body)
	}
	callback := p.authorize(w.Header().Get("Location"))
	return c.do("GET", callback, nil), callback
}

func TestOIDCSignInRoundTrip(t *testing.T) {
	tb, p := oidcTestbed(t)
	c := tb.client()
	if page := c.do("GET", "/ui/login", nil).Body.String(); !strings.Contains(page, `href="/ui/oidc/start"`) {
		t.Fatalf("login page offers no organisation sign-in:\n%s", page)
	}
	start := c.do("GET", "/ui/oidc/start", nil)
	ck := c.cookies[oidcCookie]
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/ui/oidc/" || ck.MaxAge > 600 {
		t.Fatalf("flow cookie %+v: want HttpOnly, SameSite=Lax, Path /ui/oidc/, at most 10 minutes", ck)
	}
	w := c.do("GET", p.authorize(start.Header().Get("Location")), nil)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/ui/oidc/done" {
		t.Fatalf("callback = %d to %q, want 303 to /ui/oidc/done:\n%s", w.Code, w.Header().Get("Location"), w.Body)
	}
	if _, left := c.cookies[oidcCookie]; left {
		t.Error("the flow cookie outlived the callback")
	}
	sc := c.cookies[sessionCookie]
	if sc == nil {
		t.Fatal("no session cookie after the callback")
	}
	if diff := cmp.Diff([]any{true, http.SameSiteStrictMode, "/ui/"}, []any{sc.HttpOnly, sc.SameSite, sc.Path}); diff != "" {
		t.Errorf("session cookie (HttpOnly, SameSite, Path): mismatch (-want +got):\n%s", diff)
	}
	s := tb.state.sessions[sessionHash(sc.Value)].Session
	got := []any{s.Principal, s.Role, s.Expires, s.TokenHash == nil}
	if diff := cmp.Diff([]any{"sub-alice", workitem.RoleCoder, tb.now.Add(tb.h.o.SessionMax), true}, got); diff != "" {
		t.Errorf("session (principal, role, expires after the session max, not the ID token's short exp; no token hash): mismatch (-want +got):\n%s", diff)
	}
	done := c.do("GET", "/ui/oidc/done", nil)
	if done.Code != http.StatusOK || done.Header().Get("Refresh") != "0; url=/ui/login" {
		t.Errorf("done = %d, Refresh %q: want 200 moving on to /ui/login", done.Code, done.Header().Get("Refresh"))
	}
	if w := c.do("GET", "/ui/login", nil); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/ui/" {
		t.Errorf("signed-in /ui/login = %d to %q, want 303 to /ui/", w.Code, w.Header().Get("Location"))
	}
	if w := c.do("GET", "/ui/", nil); w.Code != http.StatusOK {
		t.Errorf("worklist after OIDC sign-in = %d, want 200", w.Code)
	}
}

func TestOIDCClientSecretPost(t *testing.T) {
	tb, p := oidcTestbed(t)
	p.post = true
	if w, _ := tb.client().oidcSignIn(p); w.Code != http.StatusSeeOther {
		t.Errorf("callback with a client_secret_post provider = %d, want 303:\n%s", w.Code, w.Body)
	}
}

func TestOIDCRoleMapping(t *testing.T) {
	apiLike := func(scopes []string) (workitem.Role, bool) { // httpapi.RoleFromScopes, without its clinical types
		return workitem.RoleFromScopes(scopes, func(string) bool { return false })
	}
	tests := []struct {
		name   string
		claims jwt.MapClaims
		scope  string // granted by the token endpoint
		role   func([]string) (workitem.Role, bool)
		want   workitem.Role
	}{
		{"codebridge_role claim", jwt.MapClaims{"codebridge_role": "auditor"}, "", nil, workitem.RoleAuditor},
		{"scope claim", jwt.MapClaims{"codebridge_role": nil, "scope": "openid codebridge/role.auditor"}, "", nil, workitem.RoleAuditor},
		{"scp array", jwt.MapClaims{"codebridge_role": nil, "scp": []string{"codebridge/role.coder"}}, "", nil, workitem.RoleCoder},
		{"user's scope, API mapping", jwt.MapClaims{"codebridge_role": nil, "scope": "openid user/*.write"}, "", apiLike, workitem.RoleCoder},
	}
	for _, tt := range tests {
		tb, p := oidcTestbed(t)
		tb.h.o.OIDC.Role = tt.role
		p.scope = tt.scope
		p.claims = func(c jwt.MapClaims) { mergeClaims(c, tt.claims) }
		c := tb.client()
		if w, _ := c.oidcSignIn(p); w.Code != http.StatusSeeOther {
			t.Errorf("%s: callback = %d, want 303:\n%s", tt.name, w.Code, w.Body)
			continue
		}
		if got := tb.state.sessions[sessionHash(c.cookies[sessionCookie].Value)].Role; got != tt.want {
			t.Errorf("%s: role = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func mergeClaims(c, edits jwt.MapClaims) {
	for k, v := range edits {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
}

func TestOIDCRefusals(t *testing.T) {
	const retry = "could not be completed"
	tests := []struct {
		name   string
		claims jwt.MapClaims
		sign   func(c jwt.MapClaims) string
		// callback, when set, turns the real callback URL into the one sent.
		callback func(real string) string
		noCookie bool
		status   int
		msg      string
	}{
		{name: "wrong state", callback: func(u string) string { return replaceParam(u, "state", "forged") },
			status: http.StatusBadRequest, msg: "expired or was already used"},
		{name: "another browser", noCookie: true, status: http.StatusBadRequest, msg: "expired or was already used"},
		{name: "provider error", callback: func(string) string {
			return "/ui/oidc/callback?error=access_denied&error_description=%3Cscript%3E"
		}, status: http.StatusUnauthorized, msg: "cancelled or refused"},
		{name: "bad nonce", claims: jwt.MapClaims{"nonce": "other"}, status: http.StatusUnauthorized, msg: retry},
		{name: "no nonce", claims: jwt.MapClaims{"nonce": nil}, status: http.StatusUnauthorized, msg: retry},
		{name: "wrong aud", claims: jwt.MapClaims{"aud": "someone-else"}, status: http.StatusUnauthorized, msg: retry},
		{name: "second aud without azp", claims: jwt.MapClaims{"aud": []string{testClientID, "api"}}, status: http.StatusUnauthorized, msg: retry},
		{name: "wrong iss", claims: jwt.MapClaims{"iss": "https://evil.example"}, status: http.StatusUnauthorized, msg: retry},
		{name: "expired", claims: jwt.MapClaims{"exp": time.Date(2026, 3, 10, 13, 0, 0, 0, time.UTC).Unix()}, status: http.StatusUnauthorized, msg: retry},
		{name: "no exp", claims: jwt.MapClaims{"exp": nil}, status: http.StatusUnauthorized, msg: retry},
		{name: "alg none", sign: func(c jwt.MapClaims) string {
			return signWith(jwt.SigningMethodNone, "k1", jwt.UnsafeAllowNoneSignatureType, c)
		}, status: http.StatusUnauthorized, msg: retry},
		{name: "HS256 with the client secret", sign: func(c jwt.MapClaims) string {
			return signWith(jwt.SigningMethodHS256, "k1", []byte(testClientSecret), c)
		}, status: http.StatusUnauthorized, msg: retry},
		{name: "unpublished key", sign: func(c jwt.MapClaims) string {
			return signWith(jwt.SigningMethodRS256, "k1", otherKey(), c)
		}, status: http.StatusUnauthorized, msg: retry},
		{name: "no subject", claims: jwt.MapClaims{"sub": nil}, status: http.StatusUnauthorized, msg: retry},
		{name: "no role", claims: jwt.MapClaims{"codebridge_role": nil}, status: http.StatusForbidden, msg: "grants you no codebridge role"},
		{name: "role without workbench", claims: jwt.MapClaims{"codebridge_role": "biller"}, status: http.StatusForbidden, msg: "has no access"},
	}
	for _, tt := range tests {
		tb, p := oidcTestbed(t)
		p.claims = func(c jwt.MapClaims) { mergeClaims(c, tt.claims) }
		var sent []string // what the provider and browser sent that must never be echoed
		p.sign = func(c jwt.MapClaims) string {
			s := signWith(jwt.SigningMethodRS256, "k1", providerKey(), c)
			if tt.sign != nil {
				s = tt.sign(c)
			}
			sent = append(sent, s, strings.SplitN(s, ".", 2)[0])
			return s
		}
		c := tb.client()
		start := c.do("GET", "/ui/oidc/start", nil)
		callback := p.authorize(start.Header().Get("Location"))
		if tt.callback != nil {
			callback = tt.callback(callback)
		}
		if tt.noCookie {
			delete(c.cookies, oidcCookie)
		}
		u, _ := url.Parse(callback)
		sent = append(sent, u.Query().Get("code"))
		w := c.do("GET", callback, nil)
		checkRefused(t, tt.name, c, w, tt.status, tt.msg, sent)
	}
}

// checkRefused checks a refused callback: the status, a clear message on
// the sign-in page, no session, and nothing sent echoed back.
func checkRefused(t *testing.T, name string, c *client, w *httptest.ResponseRecorder, status int, msg string, sent []string) {
	t.Helper()
	body := w.Body.String()
	if w.Code != status || !strings.Contains(body, msg) || !strings.Contains(body, `id="login-error"`) {
		t.Errorf("%s: callback = %d, want %d with %q on the sign-in page:\n%s", name, w.Code, status, msg, body)
	}
	if _, ok := c.cookies[sessionCookie]; ok {
		t.Errorf("%s: a refused sign-in set a session cookie", name)
	}
	for _, s := range sent {
		if s != "" && strings.Contains(body, s) {
			t.Errorf("%s: the page echoes %q", name, s)
		}
	}
	if strings.Contains(body, "<script>") || strings.Contains(body, "eyJ") {
		t.Errorf("%s: the page echoes what the provider sent", name)
	}
}

func replaceParam(u, k, v string) string {
	p, _ := url.Parse(u)
	q := p.Query()
	q.Set(k, v)
	p.RawQuery = q.Encode()
	return p.String()
}

func TestOIDCReplayedCode(t *testing.T) {
	tb, p := oidcTestbed(t)
	c := tb.client()
	flow := func() *http.Cookie { return c.cookies[oidcCookie] }
	start := c.do("GET", "/ui/oidc/start", nil)
	saved := flow()
	callback := p.authorize(start.Header().Get("Location"))
	if w := c.do("GET", callback, nil); w.Code != http.StatusSeeOther {
		t.Fatalf("first callback = %d, want 303", w.Code)
	}
	tests := []struct {
		name   string
		cookie *http.Cookie
		status int
	}{
		{"replayed without the flow cookie", nil, http.StatusBadRequest},
		{"replayed with the flow cookie", saved, http.StatusUnauthorized}, // the provider refuses a used code
	}
	for _, tt := range tests {
		attacker := tb.client()
		if tt.cookie != nil {
			attacker.cookies[oidcCookie] = tt.cookie
		}
		w := attacker.do("GET", callback, nil)
		checkRefused(t, tt.name, attacker, w, tt.status, "", nil)
	}
}

func TestOIDCNotConfigured(t *testing.T) {
	tb := newTestbed(t)
	c := tb.client()
	if page := c.do("GET", "/ui/login", nil).Body.String(); strings.Contains(page, "/ui/oidc/start") {
		t.Error("login page offers organisation sign-in without OIDC configured")
	}
	for _, path := range []string{"/ui/oidc/start", "/ui/oidc/callback?code=c&state=s"} {
		if w := c.do("GET", path, nil); w.Code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, w.Code)
		}
	}
}

func TestOIDCProviderDown(t *testing.T) {
	tb, p := oidcTestbed(t)
	p.srv.Close()
	w := tb.client().do("GET", "/ui/oidc/start", nil)
	if w.Code != http.StatusBadGateway || !strings.Contains(w.Body.String(), "unavailable right now") {
		t.Errorf("start with the provider down = %d, want 502 with a clear message:\n%s", w.Code, w.Body)
	}
}

// TestSessionLifetime keeps a user active (a request every 10 minutes)
// and checks the session ends at its absolute end all the same.
func TestSessionLifetime(t *testing.T) {
	tests := []struct {
		name    string
		max     time.Duration
		expiry  time.Duration // of the token signed in with; 0 for a static one
		lasts   time.Duration
		message string
	}{
		{"static token, CODEBRIDGE_UI_SESSION_MAX", 2 * time.Hour, 0, 2 * time.Hour, "at most 2 hours"},
		{"JWT ending first", 2 * time.Hour, 50 * time.Minute, 50 * time.Minute, "never longer than the sign-in"},
		{"JWT outliving the maximum", time.Hour, 3 * time.Hour, time.Hour, "at most 1 hour"},
	}
	for _, tt := range tests {
		tb := newTestbed(t)
		tb.h.o.SessionMax = tt.max
		start := tb.now
		if tt.expiry > 0 {
			tb.h.o.TokenExpiry = func(string) time.Time { return start.Add(tt.expiry) }
		}
		c := tb.client()
		c.signIn("tok-alice")
		var lasted time.Duration
		for ; lasted < 24*time.Hour; lasted += 10 * time.Minute {
			tb.now = start.Add(lasted)
			if w := c.do("GET", "/ui/", nil); w.Code != http.StatusOK {
				if loc := w.Header().Get("Location"); loc != "/ui/login?ended=expired" {
					t.Errorf("%s: ended to %q, want /ui/login?ended=expired", tt.name, loc)
				}
				break
			}
		}
		if lasted != tt.lasts {
			t.Errorf("%s: session lasted %s, want %s", tt.name, lasted, tt.lasts)
		}
		if page := c.do("GET", "/ui/login?ended=expired", nil).Body.String(); !strings.Contains(page, tt.message) {
			t.Errorf("%s: sign-in page does not say why (%q):\n%s", tt.name, tt.message, page)
		}
	}
}

func TestRevokedStaticTokenEndsSession(t *testing.T) {
	tests := []struct {
		name  string
		after map[string]Principal // configured tokens after sign-in, by SHA-256
	}{
		{"token removed", map[string]Principal{}},
		{"token now another principal", map[string]Principal{sessionHash("tok-alice"): {"mallory", workitem.RoleCoder}}},
		{"token now another role", map[string]Principal{sessionHash("tok-alice"): {"alice", workitem.RoleAuditor}}},
	}
	for _, tt := range tests {
		tb := newTestbed(t)
		tokens := map[string]Principal{sessionHash("tok-alice"): {"alice", workitem.RoleCoder}}
		tb.h.o.Revalidate = func(sum []byte) (Principal, bool) { p, ok := tokens[string(sum)]; return p, ok }
		c := tb.client()
		c.signIn("tok-alice")
		if w := c.do("GET", "/ui/", nil); w.Code != http.StatusOK {
			t.Fatalf("%s: worklist before the change = %d", tt.name, w.Code)
		}
		tokens = tt.after
		w := c.do("GET", "/ui/", nil)
		if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/ui/login?ended=revoked" {
			t.Errorf("%s: worklist after = %d to %q, want 303 to /ui/login?ended=revoked", tt.name, w.Code, w.Header().Get("Location"))
		}
		tokens = map[string]Principal{sessionHash("tok-alice"): {"alice", workitem.RoleCoder}}
		if w := c.do("GET", "/ui/", nil); w.Code != http.StatusSeeOther {
			t.Errorf("%s: the ended session came back (%d) when the token did", tt.name, w.Code)
		}
	}
}

func TestSecureCookieFromRequest(t *testing.T) {
	tests := []struct {
		name  string
		tls   bool
		proto string
		want  bool
	}{
		{"plain http", false, "", false},
		{"TLS", true, "", true},
		{"proxy over https", false, "https", true},
		{"proxy chain, https first", false, "HTTPS, http", true},
		{"proxy over http", false, "http", false},
	}
	for _, tt := range tests {
		tb, _ := oidcTestbed(t)
		var got []bool
		for _, path := range []string{"/ui/login", "/ui/oidc/start"} {
			req := httptest.NewRequest("GET", path, nil)
			if tt.tls {
				req.TLS = &tls.ConnectionState{}
			}
			if tt.proto != "" {
				req.Header.Set("X-Forwarded-Proto", tt.proto)
			}
			w := httptest.NewRecorder()
			tb.h.ServeHTTP(w, req)
			for _, ck := range w.Result().Cookies() {
				got = append(got, ck.Secure)
			}
		}
		if diff := cmp.Diff([]bool{tt.want, tt.want}, got); diff != "" {
			t.Errorf("%s: Secure of the sign-in and OIDC flow cookies: mismatch (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestSessionCookieSecureOverTLS(t *testing.T) {
	tb, p := oidcTestbed(t)
	c := tb.client()
	start := c.do("GET", "/ui/oidc/start", nil)
	req := httptest.NewRequest("GET", p.authorize(start.Header().Get("Location")), nil)
	req.TLS = &tls.ConnectionState{}
	req.AddCookie(c.cookies[oidcCookie])
	w := httptest.NewRecorder()
	tb.h.ServeHTTP(w, req)
	var secure []string
	for _, ck := range w.Result().Cookies() {
		if ck.Secure {
			secure = append(secure, ck.Name)
		}
	}
	if diff := cmp.Diff([]string{oidcCookie, sessionCookie}, secure); diff != "" {
		t.Errorf("Secure cookies of a callback over TLS: mismatch (-want +got):\n%s", diff)
	}
}

// Scopes the token endpoint grants the client (a default client scope) are
// no user's role: only the ID token's claims are.
func TestOIDCGrantedClientScopeIsNoRole(t *testing.T) {
	tb, p := oidcTestbed(t)
	p.scope = "openid codebridge/role.admin"
	p.claims = func(c jwt.MapClaims) { mergeClaims(c, jwt.MapClaims{"codebridge_role": nil}) }
	c := tb.client()
	if w, _ := c.oidcSignIn(p); w.Code != http.StatusForbidden {
		t.Fatalf("callback = %d, want 403 (no role from the user's own claims)", w.Code)
	}
}
