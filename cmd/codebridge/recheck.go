package main

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/codebridge/codebridge/mapping/workitem"
)

const (
	// recheckIdle is how often the release re-check looks for a release
	// loaded since (by this process or another: `codes load`, `codes
	// fetch`): one small query on code_releases while nothing is pending.
	recheckIdle = 5 * time.Second
	// recheckBatch is how many work items one re-check transaction locks.
	recheckBatch = 16
)

// setupRecheck builds the yearly roll-over's re-check
// (postgres.Store.RecheckAfterRelease): after a code-set release is loaded,
// the edits of the waiting items whose dates of service it covers are
// recomputed on their stored assignment. One worker per process; several
// processes share the items through SKIP LOCKED. Counted in
// codebridge_recheck_items_total by result.
func (m *Main) setupRecheck() {
	items := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "codebridge_recheck_items_total",
		Help: "Waiting work items whose edits were re-checked after a code-set release was loaded, by result (updated: the edits changed; unchanged; failed: the check failed, the edits were kept and the failure noted in the item's history).",
	}, []string{"result"})
	m.Registry.MustRegister(items)
	for _, r := range []string{"updated", "unchanged", "failed"} {
		items.WithLabelValues(r)
	}
	round := func(ctx context.Context) (int, error) {
		n, err := m.Store.RecheckAfterRelease(ctx, recheckBatch)
		if err != nil {
			return 0, err
		}
		items.WithLabelValues("updated").Add(float64(n.Updated))
		items.WithLabelValues("unchanged").Add(float64(n.Unchanged))
		items.WithLabelValues("failed").Add(float64(n.Failed))
		if n.Failed > 0 {
			m.Logger.Warn("re-checking the edits of a work item after a code-set release failed; its edits were kept and the failure noted in its history")
		}
		return n.Looked(), nil
	}
	m.goWorker("recheck", func(ctx context.Context) {
		workitem.Poll(ctx, workitem.PollOptions{
			Idle:       recheckIdle,
			MaxBackoff: time.Minute,
			Full:       recheckBatch,
			OnError: func(err error) {
				m.Logger.Error("re-checking edits after a code-set release failed", "error", err.Error())
			},
		}, round)
	})
}
