package main

import (
	"context"
	"errors"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/codebridge/codebridge/adapters/httpapi"
	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/adapters/webui"
	"github.com/codebridge/codebridge/mapping/codes"
)

// registerUI has startHTTP serve the coder workbench under /ui/, on the
// same store operations, edit checker and token authenticator as the API;
// its pages that show patient data are recorded in the API's audit log.
func (m *Main) registerUI() {
	codeStore := postgres.NewCodeStore(m.DB)
	o := webui.Options{
		Items:        m.Store,
		Reports:      m.Store,
		State:        uiState{m.Store},
		Codes:        uiCodes{codeStore},
		Check:        editChecker(codeStore),
		Lease:        m.Config.LeaseDuration,
		MaxLeases:    m.Config.MaxLeasesPerCoder,
		QASampleRate: m.Config.QASampleRate,
		IdleTimeout:  m.Config.UIIdleTimeout,
		SecureCookie: m.Config.UISecureCookie,
		Logger:       m.Logger,
		Audit:        auditUIRead,
	}
	m.routes = append(m.routes, func(s *httpapi.Server) {
		auth := s.Authenticator()
		o.Authenticate = func(ctx context.Context, token string) (webui.Principal, error) {
			p, err := auth.AuthenticateContext(ctx, "Bearer "+token)
			return webui.Principal{Name: p.Name, Role: p.Role}, err
		}
		h, err := webui.New(o)
		if err != nil {
			m.Logger.Error("coder workbench not served", "error", err.Error())
			return
		}
		serve := func(c echo.Context) error {
			r := c.Request()
			h.ServeHTTP(c.Response(), r.WithContext(context.WithValue(r.Context(), echoContextKey{}, c)))
			return nil
		}
		s.Echo.Any("/ui", serve)
		s.Echo.Any("/ui/*", serve)
	})
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
	e := httpapi.AuditEntry{Principal: a.Principal, Role: a.Role, WorkItem: a.WorkItemID}
	if a.WorkItemID == "" {
		e.Resource = "WorkItem" // the worklist: a search
	}
	httpapi.AuditRead(c, e)
}

// uiState adapts the PostgreSQL store to webui.State.
type uiState struct{ *postgres.Store }

func (u uiState) CreateSession(ctx context.Context, idHash []byte, s webui.Session) error {
	return u.CreateUISession(ctx, idHash, postgres.UISession{Principal: s.Principal, Role: s.Role, CSRF: s.CSRF,
		LastChart: s.LastChart, Created: s.Created, LastSeen: s.LastSeen})
}

func (u uiState) TouchSession(ctx context.Context, idHash []byte, now time.Time, idle time.Duration) (webui.Session, error) {
	s, err := u.TouchUISession(ctx, idHash, now, idle)
	return webui.Session{Principal: s.Principal, Role: s.Role, CSRF: s.CSRF, LastChart: s.LastChart,
		Created: s.Created, LastSeen: s.LastSeen}, err
}

func (u uiState) WorklistPage(ctx context.Context, f webui.WorklistFilter) ([]webui.WorklistRow, string, error) {
	rows, next, err := u.Worklist(ctx, postgres.WorklistFilter{Status: f.Status, Class: f.Class, Assignee: f.Assignee,
		Unassigned: f.Unassigned, From: f.From, To: f.To, Sort: f.Sort, Limit: f.Limit, Cursor: f.Cursor})
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
			return nil, "No " + system + " code set is loaded.", nil
		}
		return nil, "", err
	}
	out := make([]webui.CodeHit, len(res.Hits))
	for i, h := range res.Hits {
		out[i] = webui.CodeHit{System: string(h.System), Code: h.Display, Display: h.Title, Billable: h.Billable}
	}
	note := ""
	if !res.InForce {
		note = "No release is in force on " + date.Format(time.DateOnly) + "; these are from " + res.Release.Version + "."
	}
	return out, note, nil
}

func (c uiCodes) Describe(ctx context.Context, system, code string, date time.Time) string {
	e, _ := c.s.Code(ctx, codes.System(system), code, date)
	return e.Long
}
