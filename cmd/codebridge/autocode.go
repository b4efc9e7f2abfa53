package main

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// autoCodeIdle is how long the auto-coder waits when no ready item is new
// to it.
const autoCodeIdle = 200 * time.Millisecond

// autoCodeBatch is how many items one auto-coding transaction looks at, at
// most (postgres.AutoCodeBatch).
const autoCodeBatch = 8

// autoCodeGather is how long the auto-coder lets new items gather before
// looking at them, once a committed write has woken it (without a wake it
// looks every autoCodeIdle); while items keep coming, full batches follow
// each other without it.
const autoCodeGather = 20 * time.Millisecond

// startAutoCoder runs straight-through coding (CODEBRIDGE_AUTOCODE=on) as a
// background worker over the ready queue, counting what it codes and skips.
func (m *Main) startAutoCoder(check workitem.Checker) {
	if !m.Config.AutoCode {
		return
	}
	attempts := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "codebridge_autocode_total",
		Help: "Work items the straight-through coder looked at, by result (coded, skipped, failed: left for a coder with the error noted). The straight-through rate is coded / (coded + skipped + failed).",
	}, []string{"result"})
	m.Registry.MustRegister(attempts)
	wake := make(chan struct{}, 1)
	m.Store.Wake = wake
	for range m.Config.AutoCodeWorkers { // they share the queue through SKIP LOCKED
		m.autoCodeWorker(check, attempts, wake)
	}
}

// autoCodeWorker codes ready items in batches until Close. After a batch
// that emptied the queue it waits for new items (a wake from a committed
// write, or the idle interval), then lets autoCodeGather pass so that items
// arriving together are looked at in one transaction: while ingest is busy,
// a transaction per new item (and an empty look after each) cost more than
// the looking. A full batch is followed at once by the next.
func (m *Main) autoCodeWorker(check workitem.Checker, attempts *prometheus.CounterVec, wake chan struct{}) {
	m.goWorker("autocode", func(ctx context.Context) {
		for ctx.Err() == nil {
			n, err := m.Store.AutoCodeBatch(ctx, check, m.Config.QASampleRate, autoCodeBatch)
			switch {
			case err != nil && ctx.Err() == nil:
				m.Logger.Error("auto-coding failed", "error", err.Error())
				sleep(ctx, time.Second)
			default:
				attempts.WithLabelValues("coded").Add(float64(n.Coded))
				attempts.WithLabelValues("skipped").Add(float64(n.Skipped))
				attempts.WithLabelValues("failed").Add(float64(n.Failed))
				if n.Failed > 0 {
					m.Logger.Warn("auto-coding failed on a work item; it is left for a coder with the error noted")
				}
				if n.Looked() < autoCodeBatch {
					waitWake(ctx, wake, autoCodeIdle)
					sleep(ctx, autoCodeGather)
				}
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
