package webui

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// OIDC configures "Sign in with your organisation": the OpenID Connect
// authorization-code flow with PKCE (S256), state and nonce, against the
// provider's discovery document. The ID token is verified with the
// provider's JWKS (RS256 or ES256; iss, aud = ClientID, exp, nonce) and its
// subject signs in with the role Role maps its grants to.
type OIDC struct {
	Issuer       string // exactly as the provider's "iss"
	ClientID     string
	ClientSecret string // "" for a public client (PKCE alone)
	RedirectURL  string // this server's /ui/oidc/callback, as registered
	// Role maps granted scopes to a role: the API's JWT mapping
	// (httpapi.RoleFromScopes). The scopes are the ID token's "scope" and
	// "scp", "codebridge/role.{codebridge_role claim}", and those the token
	// endpoint granted. nil accepts codebridge/role.* grants only.
	Role func(scopes []string) (role workitem.Role, ok bool)
	// HTTPClient reaches the provider; nil means a 10s timeout client.
	HTTPClient *http.Client

	mu     sync.Mutex
	meta   *oidcMeta
	metaAt time.Time
	keys   keyfunc.Keyfunc
	keysAt time.Time
}

const (
	oidcCookie   = "cb_oidc" // state, nonce and PKCE verifier of a sign-in under way
	oidcLeeway   = 30 * time.Second
	oidcMaxBody  = 1 << 20
	oidcCacheFor = time.Hour
)

// oidcMeta is what codebridge reads of the discovery document.
type oidcMeta struct {
	Issuer           string   `json:"issuer"`
	AuthEndpoint     string   `json:"authorization_endpoint"`
	TokenEndpoint    string   `json:"token_endpoint"`
	JWKSURI          string   `json:"jwks_uri"`
	TokenAuthMethods []string `json:"token_endpoint_auth_methods_supported"`
}

// oidcRefusal is a failed sign-in: msg for the user (never quoting what
// the provider or the browser sent), reason for the log.
type oidcRefusal struct {
	status int
	msg    string
	reason string
}

func (e *oidcRefusal) Error() string { return "oidc sign-in refused: " + e.reason }

func refuse(reason string) error {
	return &oidcRefusal{http.StatusUnauthorized, "The sign-in with your organisation could not be completed. Please try again.", reason}
}

var errStale = &oidcRefusal{http.StatusBadRequest,
	"That sign-in link has expired or was already used, or it was started in another browser. Please sign in again.", "state"}

func (o *OIDC) client() *http.Client {
	if o.HTTPClient != nil {
		return o.HTTPClient
	}
	return &http.Client{Timeout: 10 * time.Second}
}

// getJSON fetches u into v.
func (o *OIDC) getJSON(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := o.client().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, oidcMaxBody)).Decode(v)
}

// discover answers the provider's metadata, fetched at most hourly.
func (o *OIDC) discover(ctx context.Context, now time.Time) (oidcMeta, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.meta != nil && now.Sub(o.metaAt) < oidcCacheFor {
		return *o.meta, nil
	}
	var m oidcMeta
	if err := o.getJSON(ctx, strings.TrimSuffix(o.Issuer, "/")+"/.well-known/openid-configuration", &m); err != nil {
		return m, refuseUnavailable("discovery")
	}
	if m.Issuer != o.Issuer || m.AuthEndpoint == "" || m.TokenEndpoint == "" || m.JWKSURI == "" {
		return m, refuseUnavailable("discovery_document")
	}
	o.meta, o.metaAt = &m, now
	return m, nil
}

func refuseUnavailable(reason string) error {
	return &oidcRefusal{http.StatusBadGateway,
		"Sign-in with your organisation is unavailable right now. Please try again later, or sign in with a token.", reason}
}

// keyfunc answers the provider's signing keys, fetched again when older
// than an hour or, for a key id not found, a minute.
func (o *OIDC) keyfunc(ctx context.Context, jwksURI string, now time.Time, stale bool) (keyfunc.Keyfunc, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	age := now.Sub(o.keysAt)
	if o.keys != nil && age < oidcCacheFor && (!stale || age < time.Minute) {
		return o.keys, nil
	}
	var raw json.RawMessage
	if err := o.getJSON(ctx, jwksURI, &raw); err != nil {
		return nil, refuseUnavailable("jwks")
	}
	k, err := keyfunc.NewJWKSetJSON(raw)
	if err != nil {
		return nil, refuseUnavailable("jwks_document")
	}
	o.keys, o.keysAt = k, now
	return k, nil
}

// oidcStart sends the browser to the provider, keeping the flow's state,
// nonce and PKCE verifier in a short-lived HttpOnly cookie.
func (h *Handler) oidcStart(w http.ResponseWriter, r *http.Request) {
	o := h.o.OIDC
	if o == nil {
		http.NotFound(w, r)
		return
	}
	m, err := o.discover(r.Context(), h.o.Now())
	if err != nil {
		h.oidcFail(w, r, err)
		return
	}
	u, err := url.Parse(m.AuthEndpoint)
	if err != nil {
		h.oidcFail(w, r, refuseUnavailable("authorization_endpoint"))
		return
	}
	state, nonce, verifier := randomToken(), randomToken(), randomToken()
	challenge := sha256.Sum256([]byte(verifier))
	q := u.Query()
	for k, v := range map[string]string{"response_type": "code", "client_id": o.ClientID, "redirect_uri": o.RedirectURL,
		"scope": "openid", "state": state, "nonce": nonce, "code_challenge_method": "S256",
		"code_challenge": base64.RawURLEncoding.EncodeToString(challenge[:])} {
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
	// Lax: the provider's redirect back is a cross-site top-level GET.
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Value: state + "." + nonce + "." + verifier, Path: "/ui/oidc/",
		HttpOnly: true, Secure: h.secure(r), SameSite: http.SameSiteLaxMode, MaxAge: 600})
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}

// oidcCallback completes the flow: it checks the state, exchanges the code
// (with the PKCE verifier), verifies the ID token, starts a session and
// sends the browser on with a 303 so the code leaves the address bar.
func (h *Handler) oidcCallback(w http.ResponseWriter, r *http.Request) {
	if h.o.OIDC == nil {
		http.NotFound(w, r)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Path: "/ui/oidc/", MaxAge: -1, HttpOnly: true,
		Secure: h.secure(r), SameSite: http.SameSiteLaxMode})
	p, expires, err := h.oidcSignIn(r)
	if err != nil {
		h.oidcFail(w, r, err)
		return
	}
	if !workbenchRole(p.Role) {
		h.oidcFail(w, r, &oidcRefusal{http.StatusForbidden, "Your role has no access to the workbench.", "role"})
		return
	}
	if err := h.startSession(w, r, p, expires, nil); err != nil {
		h.renderError(w, r, nil, err)
		return
	}
	http.Redirect(w, r, "/ui/oidc/done", http.StatusSeeOther)
}

// oidcDone moves the browser on to the workbench by a same-site
// navigation: the session cookie is SameSite=Strict, so a browser would
// not send it on the redirect chain the provider started.
func (h *Handler) oidcDone(w http.ResponseWriter, r *http.Request) {
	d := h.newLoginData()
	d.Done = true
	w.Header().Set("Refresh", "0; url=/ui/login")
	h.renderPage(w, r, nil, http.StatusOK, "login.html", "Signed in", d)
}

// oidcFail shows the sign-in page with why the sign-in failed.
func (h *Handler) oidcFail(w http.ResponseWriter, r *http.Request, err error) {
	var f *oidcRefusal
	if !errors.As(err, &f) {
		f = refuseUnavailable("other").(*oidcRefusal)
	}
	h.o.Logger.InfoContext(r.Context(), "workbench oidc sign-in refused", "reason", f.reason)
	d := h.newLoginData()
	d.Error = f.msg
	h.setLoginCookie(w, r, d.Token)
	h.renderPage(w, r, nil, f.status, "login.html", "Sign in", d)
}

// oidcSignIn turns the callback request into a principal.
func (h *Handler) oidcSignIn(r *http.Request) (Principal, time.Time, error) {
	o, q, ctx := h.o.OIDC, r.URL.Query(), r.Context()
	if q.Get("error") != "" {
		return Principal{}, time.Time{}, &oidcRefusal{http.StatusUnauthorized, "The sign-in with your organisation was cancelled or refused.", "provider_error"}
	}
	c, err := r.Cookie(oidcCookie)
	if err != nil {
		return Principal{}, time.Time{}, errStale
	}
	parts := strings.Split(c.Value, ".")
	if len(parts) != 3 || q.Get("code") == "" || subtle.ConstantTimeCompare([]byte(parts[0]), []byte(q.Get("state"))) != 1 {
		return Principal{}, time.Time{}, errStale
	}
	now := h.o.Now()
	m, err := o.discover(ctx, now)
	if err != nil {
		return Principal{}, time.Time{}, err
	}
	tok, err := o.exchange(ctx, m, q.Get("code"), parts[2])
	if err != nil {
		return Principal{}, time.Time{}, err
	}
	cl, err := o.verify(ctx, m, tok.IDToken, parts[1], h.o.Now)
	if err != nil {
		return Principal{}, time.Time{}, err
	}
	// Roles come from the user's ID token only: scopes the token endpoint
	// granted the client (a default client scope) would give every user
	// the same role.
	scopes := append(cl.Scope, cl.Scp...)
	if cl.Role != "" {
		scopes = append(scopes, workitem.RoleScopePrefix+cl.Role)
	}
	role, ok := o.roleOf(scopes)
	if !ok {
		return Principal{}, time.Time{}, &oidcRefusal{http.StatusForbidden, "Your organisation's sign-in grants you no codebridge role.", "no_role"}
	}
	// The session lasts CODEBRIDGE_UI_SESSION_MAX, not the ID token's exp:
	// ID tokens prove the sign-in and often expire within minutes.
	return Principal{Name: cl.Subject, Role: role}, time.Time{}, nil
}

func (o *OIDC) roleOf(scopes []string) (workitem.Role, bool) {
	if o.Role != nil {
		return o.Role(scopes)
	}
	for _, s := range scopes {
		if r, ok := strings.CutPrefix(s, workitem.RoleScopePrefix); ok && r != "" {
			return workitem.Role(r), true
		}
	}
	return "", false
}

// tokenResponse is the token endpoint's answer.
type tokenResponse struct {
	IDToken string `json:"id_token"`
	Scope   string `json:"scope"`
}

// exchange redeems code at the token endpoint, authenticating with the
// client secret (basic unless the provider supports only post).
func (o *OIDC) exchange(ctx context.Context, m oidcMeta, code, verifier string) (tokenResponse, error) {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {o.RedirectURL},
		"code_verifier": {verifier}, "client_id": {o.ClientID}}
	basic := o.ClientSecret != "" && (len(m.TokenAuthMethods) == 0 || slices.Contains(m.TokenAuthMethods, "client_secret_basic"))
	if o.ClientSecret != "" && !basic {
		form.Set("client_secret", o.ClientSecret)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.TokenEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return tokenResponse{}, refuseUnavailable("token_endpoint")
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if basic { // RFC 6749 2.3.1: both form-encoded first
		req.SetBasicAuth(url.QueryEscape(o.ClientID), url.QueryEscape(o.ClientSecret))
	}
	resp, err := o.client().Do(req)
	if err != nil {
		return tokenResponse{}, refuseUnavailable("token_request")
	}
	defer resp.Body.Close()
	var t tokenResponse
	if resp.StatusCode != http.StatusOK {
		return t, refuse("token_status")
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, oidcMaxBody)).Decode(&t); err != nil || t.IDToken == "" {
		return t, refuse("token_response")
	}
	return t, nil
}

// idClaims are the ID token claims codebridge reads.
type idClaims struct {
	jwt.RegisteredClaims
	Nonce string          `json:"nonce"`
	AZP   string          `json:"azp"`
	Scope workitem.Scopes `json:"scope"`
	Scp   workitem.Scopes `json:"scp"`
	Role  string          `json:"codebridge_role"`
}

// verify checks an ID token's signature against the provider's keys
// (refetched once for an unknown key), its iss, aud, azp, exp, iat, nonce
// and subject.
func (o *OIDC) verify(ctx context.Context, m oidcMeta, raw, nonce string, now func() time.Time) (idClaims, error) {
	p := jwt.NewParser(jwt.WithValidMethods([]string{"RS256", "ES256"}), jwt.WithIssuer(m.Issuer),
		jwt.WithAudience(o.ClientID), jwt.WithExpirationRequired(), jwt.WithIssuedAt(),
		jwt.WithLeeway(oidcLeeway), jwt.WithTimeFunc(now))
	var cl idClaims
	var err error
	for _, stale := range []bool{false, true} {
		var keys keyfunc.Keyfunc
		if keys, err = o.keyfunc(ctx, m.JWKSURI, now(), stale); err != nil {
			return cl, err
		}
		cl = idClaims{}
		if _, err = p.ParseWithClaims(raw, &cl, keys.KeyfuncCtx(ctx)); err == nil || !errors.Is(err, keyfunc.ErrKeyfunc) {
			break
		}
	}
	switch {
	case err != nil:
		return cl, refuse("id_token")
	case cl.Nonce == "" || subtle.ConstantTimeCompare([]byte(cl.Nonce), []byte(nonce)) != 1:
		return cl, refuse("nonce")
	case (len(cl.Audience) > 1 || cl.AZP != "") && cl.AZP != o.ClientID:
		return cl, refuse("azp")
	case !workitem.ValidActorName(cl.Subject):
		return cl, refuse("subject")
	}
	return cl, nil
}
