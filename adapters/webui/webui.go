package webui

import (
	"context"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"github.com/codebridge/codebridge/mapping/codes"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// Principal is a signed-in user: who and with which role.
type Principal struct {
	Name string
	Role workitem.Role
}

// Items is what the workbench needs of the work-item store: the same
// operations the JSON coding API drives (adapters/httpapi), so the rules
// live in one place.
type Items interface {
	// GetItem answers an item with chart and history. Errors: NotFound.
	GetItem(ctx context.Context, id string) (workitem.Item, []workitem.Transition, error)
	// LeaseNext leases the top ready item; ok=false when none or at the cap.
	LeaseNext(ctx context.Context, coder string, max int, d time.Duration) (workitem.Item, bool, error)
	// SaveCodes replaces an assignment and answers its edits. Errors:
	// NotFound, Conflict, Forbidden, Precondition, Invalid.
	SaveCodes(ctx context.Context, id string, a workitem.Actor, ifVersion int, as workitem.Assignment, lease time.Duration) ([]workitem.Edit, error)
	// Submit completes coding. Errors: NotFound, Conflict, Forbidden, Unprocessable.
	Submit(ctx context.Context, id string, a workitem.Actor, o workitem.SubmitOptions) error
	// OpenQuery puts a leased item on hold for a physician query.
	OpenQuery(ctx context.Context, id string, a workitem.Actor, q workitem.Query) (workitem.Query, error)
	// AnswerQuery records a query's answer and requeues the item.
	AnswerQuery(ctx context.Context, id, qid string, a workitem.Actor, answer string) error
	// QAReviewOf answers the latest accuracy record of an item. Errors: NotFound.
	QAReviewOf(ctx context.Context, itemID string) (workitem.QAReview, error)
	// CoderCodes answers the coder's assignment kept when the item went to
	// review; ok is false when none was kept.
	CoderCodes(ctx context.Context, itemID string) (as workitem.Assignment, coder string, ok bool, err error)
}

// Session is a workbench session as stored.
type Session struct {
	Principal string
	Role      workitem.Role
	CSRF      string
	LastChart string
	Created   time.Time
	LastSeen  time.Time
	// Expires is the session's absolute end: Options.SessionMax after
	// sign-in, or the credential's expiry if sooner.
	Expires time.Time
	// TokenHash is the SHA-256 of the static token the session started
	// from (nil for JWT and OIDC sign-ins): each request checks the token
	// is still configured (Options.Revalidate).
	TokenHash []byte
}

// State is the workbench's own storage: sessions, code-pane drafts,
// preferences and the worklist page.
type State interface {
	// CreateSession stores a new session under the hash of its id.
	CreateSession(ctx context.Context, idHash []byte, s Session) error
	// TouchSession answers the live session and records activity at now.
	// Errors: Unauthorized when it was idle longer than idle (it is ended
	// then), NotFound when unknown or ended. Session.Expires and TokenHash
	// are the caller's to enforce.
	TouchSession(ctx context.Context, idHash []byte, now time.Time, idle time.Duration) (Session, error)
	// UISessionIdle answers how long a live session has been idle, without
	// touching it. Errors: NotFound.
	UISessionIdle(ctx context.Context, idHash []byte, now time.Time) (time.Duration, error)
	// SetUILastChart records the chart a session opened last.
	SetUILastChart(ctx context.Context, idHash []byte, itemID string) error
	// EndUISession ends a session (sign-out).
	EndUISession(ctx context.Context, idHash []byte, now time.Time, reason string) error
	// UILastChart answers the chart the user's latest session opened last.
	UILastChart(ctx context.Context, principal string) (string, error)
	// PruneUISessions deletes sessions ended, and drafts saved, before a time.
	PruneUISessions(ctx context.Context, before time.Time) (int64, error)
	// SaveUIDraft stores (replaces) a user's code-pane draft of an item.
	SaveUIDraft(ctx context.Context, principal, itemID string, draft []byte, now time.Time) error
	// UIDraft answers a user's draft of an item, nil when there is none.
	UIDraft(ctx context.Context, principal, itemID string) ([]byte, error)
	// DeleteUIDraft drops a user's draft of an item.
	DeleteUIDraft(ctx context.Context, principal, itemID string) error
	// UIPrefs answers a user's preferences (JSON), nil when none are saved.
	UIPrefs(ctx context.Context, principal string) ([]byte, error)
	// SaveUIPrefs stores a user's preferences (JSON).
	SaveUIPrefs(ctx context.Context, principal string, prefs []byte, now time.Time) error
	// WorklistPage answers one worklist page and the next page's cursor.
	// Errors: Invalid (cursor).
	WorklistPage(ctx context.Context, f WorklistFilter) ([]WorklistRow, string, error)
}

// WorklistFilter selects and orders the worklist.
type WorklistFilter struct {
	Status     []workitem.Status
	Class      string
	Assignee   string
	Unassigned bool
	From, To   time.Time
	Sort       string // "priority", "discharge" or "discharge_desc"
	Limit      int
	Cursor     string
	// AutoCode selects by the straight-through coder's decision:
	// workitem.AutoSkipped (left by the straight-through coder),
	// workitem.AutoCoded, or "" for any.
	AutoCode string
}

// WorklistRow is one worklist line.
type WorklistRow struct {
	workitem.Item
	PatientName string
	Payer       string
	Discharge   time.Time
}

// CodeHit is one code-search result.
type CodeHit struct {
	System   string
	Code     string // display form, e.g. J20.9
	Display  string
	Billable bool
}

// Codes searches and describes codes: the code-set store behind
// /api/v1/codes/search.
type Codes interface {
	// Search finds codes of system ("icd10cm", "icd10pcs", "hcpcs", "cpt")
	// in the release in force on date; note says when another was searched.
	Search(ctx context.Context, system, q string, date time.Time, limit int) (hits []CodeHit, note string, err error)
	// Describe answers a code's title ("" when unknown).
	Describe(ctx context.Context, system, code string, date time.Time) string
}

// ChartAccess is one view of a patient's chart, for the audit log of PHI
// reads.
type ChartAccess struct {
	Principal  string
	Role       workitem.Role
	WorkItemID string
	Action     string // "worklist.view", "chart.view", "chart.review", "chart.query"
}

// Options configure the workbench.
type Options struct {
	Items   Items
	Reports workitem.Reports
	State   State
	Codes   Codes
	// Authenticate turns a token into a principal: the authenticator the
	// API uses. Errors: any (the token is refused).
	Authenticate func(ctx context.Context, token string) (Principal, error)
	// TokenExpiry, when set, answers when a token Authenticate accepted
	// stops being valid (a JWT's exp), or the zero time for a static
	// token. A session started with a token ends then at the latest; one
	// started with a static token is checked by Revalidate.
	TokenExpiry  func(token string) time.Time
	Lease        time.Duration
	MaxLeases    int
	QASampleRate float64
	// InstitutionalClasses are the encounter classes billed on
	// institutional claims (CODEBRIDGE_INSTITUTIONAL_CLASSES, the list the
	// claim builder uses); empty means workitem.DefaultInstitutionalClasses.
	InstitutionalClasses []string
	// IdleTimeout logs a session off after this long without a request;
	// default 15 minutes.
	IdleTimeout time.Duration
	// SecureCookie marks the session cookie Secure (behind TLS); it is
	// Secure anyway on requests that came over TLS or with
	// X-Forwarded-Proto: https.
	SecureCookie bool
	// SessionMax is a session's absolute lifetime, however active its
	// user; default 12 hours.
	SessionMax time.Duration
	// Revalidate, when set, answers the principal a static token (by its
	// SHA-256) authenticates now; ok is false once it is no longer
	// configured. Every request of a session started with a static token
	// asks it, and the session ends when the answer changes.
	Revalidate func(tokenSHA256 []byte) (p Principal, ok bool)
	// OIDC, when set, offers "Sign in with your organisation" through an
	// OpenID Connect provider (oidc.go).
	OIDC *OIDC
	// CodeSets, when set, answers the code-set coverage of today (the
	// facility's date, and codes.Coverage of the loaded releases): the
	// dashboard shows an admin a banner naming each code set no release
	// covers today, with the command that loads it.
	CodeSets func(ctx context.Context) (today time.Time, cov []codes.SystemCoverage, err error)
	// Audit, when set, is told of every page that shows patient data; ctx
	// is the request's.
	Audit  func(ctx context.Context, a ChartAccess)
	Logger *slog.Logger
	Now    func() time.Time
}

// Handler serves the workbench under /ui/.
type Handler struct {
	o      Options
	mux    *http.ServeMux
	pages  map[string]*template.Template
	assets *assets
}

// New builds the workbench handler.
func New(o Options) (*Handler, error) {
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 15 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxLeases <= 0 {
		o.MaxLeases = 3
	}
	if o.SessionMax <= 0 {
		o.SessionMax = 12 * time.Hour
	}
	h := &Handler{o: o, mux: http.NewServeMux()}
	var err error
	if h.assets, err = loadAssets(); err != nil {
		return nil, err
	}
	if h.pages, err = parsePages(h.assets.version); err != nil {
		return nil, err
	}
	h.routes()
	return h, nil
}

// ServeHTTP serves every /ui/ request with the workbench's security
// headers.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", csp)
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Cross-Origin-Resource-Policy", "same-origin")
	hd.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()")
	hd.Set("Cache-Control", "no-store")
	h.mux.ServeHTTP(w, r)
}

// csp allows only this origin's scripts, styles and requests: no inline
// script or style, no framing, no plugins.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func (h *Handler) routes() {
	m := h.mux
	m.HandleFunc("GET /ui/static/{file...}", h.static)
	m.HandleFunc("GET /ui", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ui/", http.StatusMovedPermanently) })
	m.HandleFunc("GET /ui/login", h.loginPage)
	m.HandleFunc("POST /ui/login", h.login)
	m.HandleFunc("GET /ui/oidc/start", h.oidcStart)
	m.HandleFunc("GET /ui/oidc/callback", h.oidcCallback)
	m.HandleFunc("GET /ui/oidc/done", h.oidcDone)
	m.HandleFunc("POST /ui/logout", h.authed(anyRole, h.logout))
	m.HandleFunc("GET /ui/session/status", h.sessionStatus)
	m.HandleFunc("POST /ui/session/extend", h.authed(anyRole, h.extend))
	m.HandleFunc("GET /ui/{$}", h.authed(readers, h.worklist))
	m.HandleFunc("POST /ui/next", h.authed(coders, h.next))
	m.HandleFunc("GET /ui/items/{id}", h.authed(readers, h.chart))
	m.HandleFunc("POST /ui/items/{id}/codes", h.authed(editors, h.saveCodes))
	m.HandleFunc("GET /ui/items/{id}/review", h.authed(editors, h.review))
	m.HandleFunc("POST /ui/items/{id}/submit", h.authed(editors, h.submit))
	m.HandleFunc("GET /ui/items/{id}/query", h.authed(coders, h.queryForm))
	m.HandleFunc("POST /ui/items/{id}/query", h.authed(coders, h.sendQuery))
	m.HandleFunc("POST /ui/items/{id}/queries/{qid}/answer", h.authed(coders, h.answerQuery))
	m.HandleFunc("GET /ui/codes/search", h.authed(editors, h.searchCodes))
	m.HandleFunc("GET /ui/dashboard", h.authed(supervisors, h.dashboard))
	m.HandleFunc("GET /ui/settings", h.authed(anyRole, h.settingsPage))
	m.HandleFunc("POST /ui/settings", h.authed(anyRole, h.saveSettings))
	m.HandleFunc("/ui/", func(w http.ResponseWriter, r *http.Request) {
		h.renderError(w, r, nil, workitem.Errorf(workitem.NotFound, "no such page"))
	})
}

// Roles allowed on each group of routes (admin is always allowed).
var (
	anyRole     = []workitem.Role{workitem.RoleCoder, workitem.RoleAuditor}
	readers     = []workitem.Role{workitem.RoleCoder, workitem.RoleAuditor}
	coders      = []workitem.Role{workitem.RoleCoder}
	editors     = []workitem.Role{workitem.RoleCoder, workitem.RoleAuditor}
	supervisors = []workitem.Role{workitem.RoleAuditor}
)
