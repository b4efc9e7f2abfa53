package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"

	"github.com/codebridge/codebridge/adapters/httpapi"
	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/adapters/webui"
	"github.com/codebridge/codebridge/config"
	"github.com/codebridge/codebridge/mapping/codes"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// registerUI has setupHTTP serve the coder workbench under /ui/, on the
// same store operations (edits checked by the store), institutional classes
// and token authenticator as the API; its pages that show patient data are recorded
// in the API's audit log. A workbench that cannot be built stops start-up.
func (m *Main) registerUI() error {
	codeStore := postgres.NewCodeStore(m.DB)
	var authenticate func(ctx context.Context, token string) (webui.Principal, error) // set with the API's routes
	o := webui.Options{
		Items:                m.Store,
		Reports:              m.Store,
		State:                uiState{m.Store},
		Codes:                uiCodes{codeStore},
		Lease:                m.Config.LeaseDuration,
		MaxLeases:            m.Config.MaxLeasesPerCoder,
		QASampleRate:         m.Config.QASampleRate,
		InstitutionalClasses: m.Config.InstitutionalClass,
		IdleTimeout:          m.Config.UIIdleTimeout,
		SecureCookie:         m.Config.UISecureCookie,
		SessionMax:           m.Config.UISessionMax,
		Revalidate:           staticTokens(m.Config),
		TokenExpiry:          jwtExpiry(m.Config),
		OIDC:                 uiOIDC(m.Config),
		Logger:               m.Logger,
		Audit:                auditUIRead,
		CodeSets:             m.codeSetCoverage(),
		Authenticate: func(ctx context.Context, token string) (webui.Principal, error) {
			return authenticate(ctx, token)
		},
	}
	h, err := webui.New(o)
	if err != nil {
		return fmt.Errorf("coder workbench: %w", err)
	}
	m.routes = append(m.routes, func(s *httpapi.Server) {
		auth := s.Authenticator()
		authenticate = func(ctx context.Context, token string) (webui.Principal, error) {
			p, err := auth.AuthenticateContext(ctx, "Bearer "+token)
			return webui.Principal{Name: p.Name, Role: p.Role}, err
		}
		serve := func(c echo.Context) error {
			r := c.Request()
			h.ServeHTTP(c.Response(), r.WithContext(context.WithValue(r.Context(), echoContextKey{}, c)))
			return nil
		}
		s.Echo.Any("/ui", serve)
		s.Echo.Any("/ui/*", serve)
	})
	return nil
}

// staticTokens answers the principal a static token's SHA-256 signs in as
// (webui.Options.Revalidate), the way httpapi.Authenticator does: with
// --insecure-no-auth and nothing else configured, every token is the admin
// "anonymous".
func staticTokens(c config.Config) func([]byte) (webui.Principal, bool) {
	insecure := c.InsecureNoAuth && len(c.Tokens) == 0 && c.JWKSURL == ""
	byHash := make(map[[sha256.Size]byte]webui.Principal, len(c.Tokens))
	for _, t := range apiTokens(c.Tokens) {
		byHash[sha256.Sum256([]byte(t.Value))] = webui.Principal{Name: t.Name, Role: t.Role}
	}
	return func(sum []byte) (webui.Principal, bool) {
		if insecure {
			return webui.Principal{Name: "anonymous", Role: workitem.RoleAdmin}, true
		}
		if len(sum) != sha256.Size {
			return webui.Principal{}, false
		}
		p, ok := byHash[[sha256.Size]byte(sum)]
		return p, ok
	}
}

// jwtExpiry answers a JWT's exp (webui.Options.TokenExpiry): it is asked
// only of tokens the authenticator accepted, and those are verified JWTs
// only when CODEBRIDGE_JWKS_URL is set; anything else is a static token
// (zero time).
func jwtExpiry(c config.Config) func(string) time.Time {
	return func(token string) time.Time {
		if c.JWKSURL == "" {
			return time.Time{}
		}
		var cl jwt.RegisteredClaims
		if _, _, err := jwt.NewParser().ParseUnverified(token, &cl); err != nil || cl.ExpiresAt == nil {
			return time.Time{}
		}
		return cl.ExpiresAt.Time
	}
}

// uiOIDC is the workbench's OIDC sign-in when CODEBRIDGE_OIDC_ISSUER is
// set, mapping grants to roles as the API maps JWTs.
func uiOIDC(c config.Config) *webui.OIDC {
	if c.OIDCIssuer == "" {
		return nil
	}
	return &webui.OIDC{Issuer: c.OIDCIssuer, ClientID: c.OIDCClientID, ClientSecret: c.OIDCClientSecret,
		RedirectURL: c.OIDCRedirectURL, Role: httpapi.RoleFromScopes}
}

// echoContextKey carries a workbench request's echo.Context, so its audit
// records reach the API's audit log.
type echoContextKey struct{}

// auditUIRead records a workbench page showing patient data in the audit
// log (httpapi.AuditRead; a no-op when no audit log is registered).
func auditUIRead(ctx context.Context, a webui.ChartAccess) {
	c, ok := ctx.Value(echoContextKey{}).(echo.Context)
	if !ok {
		return
	}
	e := httpapi.AuditEntry{Principal: a.Principal, Role: string(a.Role), WorkItem: a.WorkItemID}
	if a.WorkItemID == "" {
		e.Resource = "WorkItem" // the worklist: a search
	}
	httpapi.AuditRead(c, e)
}

// uiState adapts the PostgreSQL store to webui.State.
type uiState struct{ *postgres.Store }

func (u uiState) CreateSession(ctx context.Context, idHash []byte, s webui.Session) error {
	return u.CreateUISession(ctx, idHash, postgres.UISession{Principal: s.Principal, Role: string(s.Role), CSRF: s.CSRF,
		LastChart: s.LastChart, Created: s.Created, LastSeen: s.LastSeen, Expires: s.Expires, TokenHash: s.TokenHash})
}

func (u uiState) TouchSession(ctx context.Context, idHash []byte, now time.Time, idle time.Duration) (webui.Session, error) {
	s, err := u.TouchUISession(ctx, idHash, now, idle)
	return webui.Session{Principal: s.Principal, Role: workitem.Role(s.Role), CSRF: s.CSRF, LastChart: s.LastChart,
		Created: s.Created, LastSeen: s.LastSeen, Expires: s.Expires, TokenHash: s.TokenHash}, err
}

func (u uiState) WorklistPage(ctx context.Context, f webui.WorklistFilter) ([]webui.WorklistRow, string, error) {
	rows, next, err := u.Worklist(ctx, postgres.WorklistFilter{Status: f.Status, Class: f.Class, Assignee: f.Assignee,
		Unassigned: f.Unassigned, From: f.From, To: f.To, Sort: f.Sort, Limit: f.Limit, Cursor: f.Cursor, AutoCode: f.AutoCode})
	out := make([]webui.WorklistRow, len(rows))
	for i, r := range rows {
		out[i] = webui.WorklistRow{Item: r.Item, PatientName: r.PatientName, Payer: r.Payer, Discharge: r.Discharge}
	}
	return out, next, err
}

// uiCodes adapts the code-set store to webui.Codes.
type uiCodes struct{ s *postgres.CodeStore }

func (c uiCodes) Search(ctx context.Context, system, q string, date time.Time, limit int) ([]webui.CodeHit, string, error) {
	res, err := c.s.SearchCodes(ctx, codes.System(system), q, date, limit)
	if err != nil {
		if errors.Is(err, codes.ErrNoRelease) {
			return nil, codes.SearchNote(codes.System(system), date, codes.Release{}), nil
		}
		return nil, "", err
	}
	out := make([]webui.CodeHit, len(res.Hits))
	for i, h := range res.Hits {
		out[i] = webui.CodeHit{System: string(h.System), Code: h.Display, Display: h.Title, Billable: h.Billable}
	}
	note := ""
	if !res.InForce {
		note = codes.SearchNote(codes.System(system), date, res.Release)
	}
	return out, note, nil
}

func (c uiCodes) Describe(ctx context.Context, system, code string, date time.Time) string {
	e, _ := c.s.Code(ctx, codes.System(system), code, date)
	return e.Long
}
