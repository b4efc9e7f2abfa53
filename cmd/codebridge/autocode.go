package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/codebridge/codebridge/mapping/autocode"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// setupAutoCoder builds straight-through coding (CODEBRIDGE_AUTOCODE=on):
// CODEBRIDGE_AUTOCODE_WORKERS coders over the ready queue, woken by the
// store's committed writes (wake), counting what they code and skip.
func (m *Main) setupAutoCoder(wake <-chan struct{}) {
	if !m.Config.AutoCode {
		return
	}
	attempts := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "codebridge_autocode_total",
		Help: "Work items the straight-through coder looked at, by result (coded, skipped, failed: left for a coder with the error noted). The straight-through rate is coded / (coded + skipped + failed).",
	}, []string{"result"})
	m.Registry.MustRegister(attempts)
	coder := autocode.New(m.Store, autocode.Options{
		QASampleRate: m.Config.QASampleRate,
		Wake:         wake,
		Logger:       m.Logger,
		Counted: func(n workitem.AutoCounts) {
			attempts.WithLabelValues("coded").Add(float64(n.Coded))
			attempts.WithLabelValues("skipped").Add(float64(n.Skipped))
			attempts.WithLabelValues("failed").Add(float64(n.Failed))
		},
	})
	for range m.Config.AutoCodeWorkers { // they share the queue through SKIP LOCKED
		m.goWorker("autocode", coder.Run)
	}
}
