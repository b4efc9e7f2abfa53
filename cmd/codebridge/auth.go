package main

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/codebridge/codebridge/adapters/httpapi"
	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/config"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// setupAuth builds the authenticator (static tokens, and JWTs verified
// against CODEBRIDGE_JWKS_URL when set) and the audit log of reads of
// patient data, whose middleware and admin route it registers. Both are
// closed by Close after HTTP has drained and before the database closes:
// the audit writer's last records land first.
func (m *Main) setupAuth() (*httpapi.Authenticator, error) {
	auth := httpapi.NewAuthenticator(apiTokens(m.Config.Tokens), m.Config.InsecureNoAuth)
	if m.Config.JWKSURL != "" {
		v, err := httpapi.NewJWTVerifier(httpapi.JWTOptions{
			JWKSURL:  m.Config.JWKSURL,
			LogURL:   config.RedactURL(m.Config.JWKSURL),
			Issuer:   m.Config.JWTIssuer,
			Audience: m.Config.JWTAudience,
			Logger:   m.Logger,
			Registry: m.Registry,
		})
		if err != nil {
			return nil, err
		}
		m.closers = append(m.closers, func(context.Context) error { v.Close(); return nil })
		auth.UseJWT(v)
		if m.Config.InsecureNoAuth {
			m.Logger.Warn("--insecure-no-auth is ignored: JWT verification is configured, every request authenticates")
		}
	}
	store := postgres.NewAuditStore(m.DB)
	w := postgres.NewAuditWriter(store, postgres.AuditWriterOptions{Logger: m.Logger})
	m.closers = append(m.closers, w.Close)
	m.registerAuditMetrics(w)
	a := auditLog{w: w, store: store}
	m.routes = append(m.routes, func(s *httpapi.Server) { httpapi.RegisterAudit(s, a, a) })
	return auth, nil
}

// registerAuditMetrics exports the audit writer's counters.
func (m *Main) registerAuditMetrics(w *postgres.AuditWriter) {
	m.Registry.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "codebridge_audit_written_total",
			Help: "Audit records of patient-data reads written to the database."},
			func() float64 { return float64(w.Stats().Written) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "codebridge_audit_dropped_total",
			Help: "Audit records lost: the buffer stayed full past its wait, or they could not be written at shutdown."},
			func() float64 { return float64(w.Stats().Dropped) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "codebridge_audit_insert_failures_total",
			Help: "Failed audit batch inserts (each is retried)."},
			func() float64 { return float64(w.Stats().Failures) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "codebridge_audit_queue_length",
			Help: "Audit records waiting to be written."},
			func() float64 { return float64(w.Stats().Queued) }),
	)
}

// auditLog joins the HTTP edge's audit interfaces to PostgreSQL.
type auditLog struct {
	w     *postgres.AuditWriter
	store *postgres.AuditStore
}

// Record queues e for the background writer.
func (a auditLog) Record(e httpapi.AuditEntry) {
	a.w.Record(postgres.AuditRecord{At: e.At, Principal: e.Principal, Role: e.Role, Method: e.Method, Route: e.Route,
		Target: e.Resource, Version: e.Version, WorkItem: e.WorkItem, Encounter: e.Encounter, Patient: e.Patient,
		Params: e.Params, Status: e.Status, RequestID: e.RequestID})
}

// QueryAudit writes out what is queued, then reads: an admin sees every
// read recorded before the query.
func (a auditLog) QueryAudit(ctx context.Context, q httpapi.AuditQuery) ([]httpapi.AuditEntry, string, error) {
	fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	err := a.w.Flush(fctx)
	cancel()
	if err != nil {
		return nil, "", workitem.Errorf(workitem.Transient, "the audit log is behind; retry")
	}
	recs, next, err := a.store.Query(ctx, postgres.AuditFilter{Principal: q.Principal, Patient: q.Patient, Target: q.Resource,
		From: q.From, To: q.To, Limit: q.Limit, Cursor: q.Cursor})
	if err != nil {
		return nil, "", err
	}
	out := make([]httpapi.AuditEntry, len(recs))
	for i, r := range recs {
		out[i] = httpapi.AuditEntry{ID: r.ID, At: r.At, Principal: r.Principal, Role: r.Role, Method: r.Method, Route: r.Route,
			Resource: r.Target, Version: r.Version, WorkItem: r.WorkItem, Encounter: r.Encounter, Patient: r.Patient,
			Params: r.Params, Status: r.Status, RequestID: r.RequestID}
	}
	return out, next, nil
}

// apiTokens turns the configured static tokens into the API's. config
// accepts only roles workitem.ParseRole knows.
func apiTokens(ts []config.Token) []httpapi.Token {
	out := make([]httpapi.Token, 0, len(ts))
	for _, t := range ts {
		out = append(out, httpapi.Token{Name: t.Name, Role: t.Role, Value: t.Value})
	}
	return out
}
