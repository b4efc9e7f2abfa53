package main

import (
	"context"
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/codebridge/codebridge/adapters/fhirclient"
	"github.com/codebridge/codebridge/adapters/httpapi"
	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// claimSinkRetryBase is the first wait after a failed claim delivery; it
// doubles per attempt up to claimSinkRetryCap. claimSinkPoll is the
// worker's pause when nothing is due. Tests shorten both.
var (
	claimSinkRetryBase = 2 * time.Second
	claimSinkPoll      = time.Second
)

const claimSinkRetryCap = 5 * time.Minute

// setupClaimSink builds the delivery of issued Claims to
// CODEBRIDGE_CLAIM_SINK_URL when it is set: the store queues every Claim
// version (StoreOptions.DeliverClaims, see buildStore), a worker delivers
// them (conditional create, then conditional update for cancellations),
// metrics count the outcomes and admin routes list and replay dead
// deliveries. Without the URL it does nothing.
func (m *Main) setupClaimSink() {
	if m.Config.ClaimSinkURL == "" {
		return
	}
	store := postgres.NewDeliveryStore(m.DB, workitem.RetryPolicy{
		MaxAttempts: m.Config.ClaimSinkAttempts, Base: claimSinkRetryBase, Cap: claimSinkRetryCap})
	client := &fhirclient.Client{BaseURL: m.Config.ClaimSinkURL, Token: m.Config.ClaimSinkToken,
		User: m.Config.ClaimSinkUser, Password: m.Config.ClaimSinkPassword}
	delivered, failed := m.claimSinkMetrics(store)
	w := fhirclient.NewWorker(store, client, fhirclient.WorkerOptions{
		Poll:        claimSinkPoll,
		Logger:      m.Logger.With("worker", "claim-sink"),
		OnDelivered: delivered.Inc,
		OnFailed:    failed.Inc,
	})
	m.routes = append(m.routes, func(s *httpapi.Server) { httpapi.RegisterDeliveryAdmin(s, store) })
	m.goWorker("claim-sink", w.Run)
}

// claimSinkMetrics registers the claim-sink counters and the dead-letter
// gauge on m.Registry.
func (m *Main) claimSinkMetrics(store *postgres.DeliveryStore) (delivered, failed prometheus.Counter) {
	delivered = prometheus.NewCounter(prometheus.CounterOpts{Namespace: "codebridge", Subsystem: "claim_sink",
		Name: "delivered_total", Help: "Claim versions accepted by the claim sink."})
	failed = prometheus.NewCounter(prometheus.CounterOpts{Namespace: "codebridge", Subsystem: "claim_sink",
		Name: "failed_total", Help: "Failed Claim delivery attempts (retryable or permanent)."})
	dead := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "codebridge", Subsystem: "claim_sink",
		Name: "dead", Help: "Claim deliveries given up on, waiting for an operator's replay."},
		func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			n, err := store.CountDead(ctx)
			if err != nil {
				return math.NaN()
			}
			return float64(n)
		})
	m.Registry.MustRegister(delivered, failed, dead)
	return delivered, failed
}
