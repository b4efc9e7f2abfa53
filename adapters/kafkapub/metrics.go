package kafkapub

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// Metrics are the relay's Prometheus metrics. A nil *Metrics records
// nothing.
type Metrics struct {
	publish    prometheus.Histogram
	lag        prometheus.Histogram
	published  prometheus.Counter
	failures   prometheus.Counter
	dead       prometheus.Counter
	duplicates prometheus.Counter
}

// NewMetrics registers the relay metrics on reg, plus gauges of the outbox
// read through stats once per scrape: pending depth, dead letters and the
// age of the oldest pending record.
func NewMetrics(reg prometheus.Registerer, stats func(context.Context) (workitem.OutboxStats, error)) *Metrics {
	buckets := []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300}
	m := &Metrics{
		publish: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "codebridge_outbox_publish_seconds",
			Help: "Time to publish one claimed batch to Kafka, acknowledged by all in-sync replicas.", Buckets: buckets}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "codebridge_outbox_delivery_lag_seconds",
			Help: "Time from a record's commit to the outbox to its broker acknowledgement.", Buckets: buckets}),
		published: prometheus.NewCounter(prometheus.CounterOpts{Name: "codebridge_outbox_published_total",
			Help: "Outbox records acknowledged by the broker."}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{Name: "codebridge_outbox_publish_failures_total",
			Help: "Outbox record publish attempts that failed."}),
		dead: prometheus.NewCounter(prometheus.CounterOpts{Name: "codebridge_outbox_dead_lettered_total",
			Help: "Outbox records moved to the dead letters."}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{Name: "codebridge_outbox_duplicates_total",
			Help: "Records published again after another relay had already published them (detected at MarkSent)."}),
	}
	reg.MustRegister(m.publish, m.lag, m.published, m.failures, m.dead, m.duplicates, &statsCollector{stats: stats})
	return m
}

func (m *Metrics) observePublish(d time.Duration) {
	if m != nil {
		m.publish.Observe(d.Seconds())
	}
}

func (m *Metrics) observeLag(d time.Duration) {
	if m != nil {
		m.lag.Observe(d.Seconds())
	}
}

func (m *Metrics) sent(n, dups int) {
	if m != nil {
		m.published.Add(float64(n))
		m.duplicates.Add(float64(max(dups, 0)))
	}
}

func (m *Metrics) failed(n int) {
	if m != nil {
		m.failures.Add(float64(n))
	}
}

func (m *Metrics) deadLettered(n int) {
	if m != nil && n > 0 {
		m.dead.Add(float64(n))
	}
}

var (
	pendingDesc = prometheus.NewDesc("codebridge_outbox_pending",
		"Outbox records waiting to be published.", nil, nil)
	deadDesc = prometheus.NewDesc("codebridge_outbox_dead",
		"Outbox records dead-lettered and waiting for a replay.", nil, nil)
	oldestDesc = prometheus.NewDesc("codebridge_outbox_oldest_pending_age_seconds",
		"Age of the oldest pending outbox record; 0 when none.", nil, nil)
)

// statsCollector reads the outbox once per scrape.
type statsCollector struct {
	stats func(context.Context) (workitem.OutboxStats, error)
}

func (c *statsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- pendingDesc
	ch <- deadDesc
	ch <- oldestDesc
}

func (c *statsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := c.stats(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(pendingDesc, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(pendingDesc, prometheus.GaugeValue, float64(st.Pending))
	ch <- prometheus.MustNewConstMetric(deadDesc, prometheus.GaugeValue, float64(st.Dead))
	ch <- prometheus.MustNewConstMetric(oldestDesc, prometheus.GaugeValue, st.OldestPending.Seconds())
}
