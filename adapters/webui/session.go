package webui

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/codebridge/codebridge/mapping/workitem"
)

const (
	sessionCookie = "cb_session"
	loginCookie   = "cb_login" // double-submit token of the sign-in form
	csrfHeader    = "X-CSRF-Token"
	csrfField     = "_csrf"
)

// session is the signed-in user of one request.
type session struct {
	Session
	idHash []byte
}

func (s *session) principal() Principal { return Principal{Name: s.Principal, Role: s.Role} }

func (s *session) actor() workitem.Actor { return workitem.Actor{Name: s.Principal, Role: s.Role} }

// handlerFunc is a workbench handler for a signed-in user; a returned
// error is rendered as a page or an htmx message.
type handlerFunc func(w http.ResponseWriter, r *http.Request, s *session) error

// authed wraps fn: it requires a live session (recording activity), one of
// roles (admin always passes), and on unsafe methods a valid CSRF token.
func (h *Handler) authed(roles []workitem.Role, fn handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, err := h.session(r)
		if err != nil {
			h.toLogin(w, r, endReason(err))
			return
		}
		if !s.Role.Permitted(roles...) {
			h.renderError(w, r, s, workitem.Errorf(workitem.Forbidden, "role %s may not use this page", s.Role))
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead && (r.ParseForm() != nil || !csrfOK(r, s.CSRF)) {
			h.renderError(w, r, s, workitem.Errorf(workitem.Forbidden, "the form was stale or came from another site: reload the page and try again"))
			return
		}
		if err := fn(w, r, s); err != nil {
			h.renderError(w, r, s, err)
		}
	}
}

// session reads the session cookie and touches the live session.
func (h *Handler) session(r *http.Request) (*session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, workitem.Errorf(workitem.NotFound, "no session cookie")
	}
	sum := sha256.Sum256([]byte(c.Value))
	now := h.o.Now().UTC()
	s, err := h.o.State.TouchSession(r.Context(), sum[:], now, h.o.IdleTimeout)
	if err != nil {
		return nil, err
	}
	if reason := h.sessionOver(s, now); reason != "" {
		if err := h.o.State.EndUISession(r.Context(), sum[:], now, reason); err != nil {
			return nil, err
		}
		return nil, sessionEnded(reason)
	}
	return &session{Session: s, idHash: sum[:]}, nil
}

// sessionEnded is a live session ended by its absolute lifetime
// ("expired") or because its static token was withdrawn ("revoked").
type sessionEnded string

func (e sessionEnded) Error() string { return "workbench session " + string(e) }

// sessionOver answers why s must end at now, or "": past its absolute
// end (stored, or Created + SessionMax should that be sooner), or started
// with a static token that no longer signs in as the same principal.
func (h *Handler) sessionOver(s Session, now time.Time) string {
	end := s.Created.Add(h.o.SessionMax)
	if !s.Expires.IsZero() && s.Expires.Before(end) {
		end = s.Expires
	}
	if !now.Before(end) {
		return "expired"
	}
	if s.TokenHash != nil && h.o.Revalidate != nil {
		if p, ok := h.o.Revalidate(s.TokenHash); !ok || p.Name != s.Principal || p.Role != s.Role {
			return "revoked"
		}
	}
	return ""
}

// endReason says why there is no live session, for the sign-in page:
// "idle", "expired", "revoked" or "" (never signed in, or signed out).
func endReason(err error) string {
	var e sessionEnded
	switch {
	case errors.As(err, &e):
		return string(e)
	case workitem.KindOf(err) == workitem.Unauthorized:
		return "idle"
	}
	return ""
}

// secure reports whether cookies must be Secure: configured so, or the
// request came over TLS (directly or, per X-Forwarded-Proto, to a proxy).
func (h *Handler) secure(r *http.Request) bool {
	proto, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
	return h.o.SecureCookie || r.TLS != nil || strings.EqualFold(strings.TrimSpace(proto), "https")
}

// csrfOK checks the request's token (header, else form field) against the
// session's in constant time, and refuses cross-site fetches outright.
func csrfOK(r *http.Request, want string) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return false
	}
	got := r.Header.Get(csrfHeader)
	if got == "" {
		got = r.PostFormValue(csrfField)
	}
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// toLogin sends a visitor without a live session to the sign-in page;
// htmx requests are told to navigate there.
func (h *Handler) toLogin(w http.ResponseWriter, r *http.Request, reason string) {
	target := "/ui/login"
	switch reason {
	case "idle":
		target += "?expired=1"
	case "expired", "revoked":
		target += "?ended=" + reason
	}
	if r.Header.Get("HX-Request") == "true" {
		w.Header().Set("HX-Redirect", target)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

type loginData struct {
	Token   string // the sign-in form's double-submit token
	Message string
	Error   string
	Idle    string
	OIDC    bool // offer "Sign in with your organisation"
	Done    bool // the OIDC sign-in worked: the page moves on to the workbench
}

// newLoginData is the sign-in page's data with a fresh form token.
func (h *Handler) newLoginData() loginData {
	return loginData{Token: randomToken(), Idle: humanDuration(h.o.IdleTimeout), OIDC: h.o.OIDC != nil}
}

// loginPage shows the sign-in form, or sends a signed-in user on.
func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) {
	s, err := h.session(r)
	if err == nil {
		http.Redirect(w, r, h.landing(r, s.principal()), http.StatusSeeOther)
		return
	}
	d := h.newLoginData()
	q := r.URL.Query()
	switch reason := endReason(err); {
	case reason == "expired" || q.Get("ended") == "expired":
		d.Message = "Your session ended: a session lasts at most " + humanDuration(h.o.SessionMax) +
			", and never longer than the sign-in it started from. Your work was saved: sign in again to continue."
	case reason == "revoked" || q.Get("ended") == "revoked":
		d.Message = "You were signed out because the token you signed in with is no longer accepted. Ask your administrator for a current one."
	case reason == "idle" || q.Get("expired") == "1":
		d.Message = "You were signed out after " + d.Idle + " without activity. Your work was saved: sign in to continue where you left off."
	case q.Get("bye") == "1":
		d.Message = "You have signed out."
	}
	h.setLoginCookie(w, r, d.Token)
	h.renderPage(w, r, nil, http.StatusOK, "login.html", "Sign in", d)
}

func (h *Handler) setLoginCookie(w http.ResponseWriter, r *http.Request, token string) {
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: token, Path: "/ui/login", HttpOnly: true,
		Secure: h.secure(r), SameSite: http.SameSiteStrictMode, MaxAge: 3600})
}

// login exchanges a token for a session and returns the user to the chart
// they had open last.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, msg string) {
		d := h.newLoginData()
		d.Error = msg
		h.setLoginCookie(w, r, d.Token)
		h.renderPage(w, r, nil, status, "login.html", "Sign in", d)
	}
	c, err := r.Cookie(loginCookie)
	if err != nil || c.Value == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("_login"))) != 1 {
		fail(http.StatusForbidden, "The sign-in form expired. Please try again.")
		return
	}
	token := r.PostFormValue("token")
	p, err := h.o.Authenticate(r.Context(), token)
	if err != nil {
		fail(http.StatusUnauthorized, "That token was not recognised.")
		return
	}
	if !workbenchRole(p.Role) {
		fail(http.StatusForbidden, "Your role ("+string(p.Role)+") has no access to the workbench.")
		return
	}
	var expires time.Time
	if h.o.TokenExpiry != nil {
		expires = h.o.TokenExpiry(token)
	}
	var tokenHash []byte
	if expires.IsZero() { // a static token: checked again on every request
		sum := sha256.Sum256([]byte(token))
		tokenHash = sum[:]
	}
	landing := h.landing(r, p)
	if err := h.startSession(w, r, p, expires, tokenHash); err != nil {
		h.renderError(w, r, nil, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Path: "/ui/login", MaxAge: -1})
	http.Redirect(w, r, landing, http.StatusSeeOther)
}

// workbenchRole reports whether role may use the workbench at all.
func workbenchRole(role workitem.Role) bool { return role.Permitted(anyRole...) }

// startSession stores a new session for p, ending after SessionMax or at
// the credential's expiry if sooner (and set), and sets its cookie.
func (h *Handler) startSession(w http.ResponseWriter, r *http.Request, p Principal, credExpires time.Time, tokenHash []byte) error {
	id, now := randomToken(), h.o.Now().UTC()
	sum := sha256.Sum256([]byte(id))
	expires := now.Add(h.o.SessionMax)
	if !credExpires.IsZero() && credExpires.Before(expires) {
		expires = credExpires.UTC()
	}
	s := Session{Principal: p.Name, Role: p.Role, CSRF: randomToken(), Created: now, LastSeen: now,
		Expires: expires, TokenHash: tokenHash}
	ctx := r.Context()
	if _, err := h.o.State.PruneUISessions(ctx, now.Add(-30*24*time.Hour)); err != nil {
		h.o.Logger.WarnContext(ctx, "pruning workbench sessions", "error", err.Error())
	}
	if err := h.o.State.CreateSession(ctx, sum[:], s); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/ui/", HttpOnly: true,
		Secure: h.secure(r), SameSite: http.SameSiteStrictMode})
	return nil
}

// landing is where a user goes after signing in: back to the chart they
// had open last while it is still theirs to work, else the worklist.
func (h *Handler) landing(r *http.Request, p Principal) string {
	id, err := h.o.State.UILastChart(r.Context(), p.Name)
	if err != nil || id == "" {
		return "/ui/"
	}
	it, _, err := h.o.Items.GetItem(r.Context(), id)
	if err != nil || workitem.MayCode(it, workitem.Actor{Name: p.Name, Role: p.Role}) != nil {
		return "/ui/"
	}
	return "/ui/items/" + url.PathEscape(id)
}

// logout ends the session; reason=idle is the idle warning timing out in
// the browser.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request, s *session) error {
	reason, target := "logout", "/ui/login?bye=1"
	if r.PostFormValue("reason") == "idle" {
		reason, target = "idle", "/ui/login?expired=1"
	}
	if err := h.o.State.EndUISession(r.Context(), s.idHash, h.o.Now().UTC(), reason); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Path: "/ui/", MaxAge: -1, HttpOnly: true,
		Secure: h.secure(r), SameSite: http.SameSiteStrictMode})
	redirect(w, r, target)
	return nil
}

// extend is the idle warning's "stay signed in": authed has recorded the
// activity already.
func (h *Handler) extend(w http.ResponseWriter, r *http.Request, s *session) error {
	return writeJSON(w, map[string]int{"remaining": int(h.o.IdleTimeout.Seconds())})
}

// sessionStatus answers the seconds left before automatic log-off without
// counting as activity, so the idle warning of one tab can see another
// tab's activity.
func (h *Handler) sessionStatus(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	sum := sha256.Sum256([]byte(c.Value))
	idle, err := h.o.State.UISessionIdle(r.Context(), sum[:], h.o.Now().UTC())
	if err != nil || idle >= h.o.IdleTimeout {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	_ = writeJSON(w, map[string]int{"remaining": int((h.o.IdleTimeout - idle).Seconds())})
}

func writeJSON(w http.ResponseWriter, v any) error {
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(v)
}

// redirect sends the browser to target: htmx requests by HX-Redirect,
// others by 303.
func redirect(w http.ResponseWriter, r *http.Request, target string) {
	if r.Header.Get("HX-Request") == "true" {
		w.Header().Set("HX-Redirect", target)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// humanDuration says d in hours, minutes or seconds.
func humanDuration(d time.Duration) string {
	if d >= time.Hour && d%time.Hour == 0 {
		if d == time.Hour {
			return "1 hour"
		}
		return itoa(int(d/time.Hour)) + " hours"
	}
	if d >= time.Minute && d%time.Minute == 0 {
		if d == time.Minute {
			return "1 minute"
		}
		return itoa(int(d/time.Minute)) + " minutes"
	}
	return itoa(int(d.Round(time.Second)/time.Second)) + " seconds"
}
