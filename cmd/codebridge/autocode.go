package main

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// autoCodeIdle is how long the auto-coder waits when no ready item is new
// to it.
const autoCodeIdle = 200 * time.Millisecond

// startAutoCoder runs straight-through coding (CODEBRIDGE_AUTOCODE=on) as a
// background worker over the ready queue, counting what it codes and skips.
func (m *Main) startAutoCoder(check workitem.Checker) {
	if !m.Config.AutoCode {
		return
	}
	attempts := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "codebridge_autocode_total",
		Help: "Work items the straight-through coder looked at, by result (coded, skipped). The straight-through rate is coded / (coded + skipped).",
	}, []string{"result"})
	m.Registry.MustRegister(attempts)
	wake := make(chan struct{}, 1)
	m.Store.Wake = wake
	for range m.Config.AutoCodeWorkers { // they share the queue through SKIP LOCKED
		m.autoCodeWorker(check, attempts, wake)
	}
}

// autoCodeWorker codes ready items one at a time until Close.
func (m *Main) autoCodeWorker(check workitem.Checker, attempts *prometheus.CounterVec, wake chan struct{}) {
	m.goWorker("autocode", func(ctx context.Context) {
		for ctx.Err() == nil {
			res, err := m.Store.AutoCodeOne(ctx, check, m.Config.QASampleRate)
			switch {
			case err != nil && ctx.Err() == nil:
				m.Logger.Error("auto-coding failed", "error", err.Error())
				sleep(ctx, time.Second)
			case res == postgres.AutoCoded:
				attempts.WithLabelValues("coded").Inc()
			case res == postgres.AutoSkipped:
				attempts.WithLabelValues("skipped").Inc()
			default:
				waitWake(ctx, wake, autoCodeIdle)
			}
		}
	})
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// waitWake waits for a wake signal, the idle interval, or the end of ctx.
func waitWake(ctx context.Context, wake <-chan struct{}, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-wake:
	case <-t.C:
	}
}
