package kafkain

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
)

// Metrics are the inbound consumer's Prometheus metrics. A nil *Metrics
// records nothing.
type Metrics struct {
	consumedN prometheus.Counter
	messages  *prometheus.CounterVec
	dead      *prometheus.CounterVec
	retries   *prometheus.CounterVec
	commits   prometheus.Counter
	seconds   prometheus.Histogram
	lag       prometheus.Gauge
}

// NewMetrics registers the inbound metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		consumedN: prometheus.NewCounter(prometheus.CounterOpts{Name: "codebridge_inbound_consumed_total",
			Help: "Messages fetched from the Kafka inbound topic (a redelivered message counts again)."}),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "codebridge_inbound_messages_total",
			Help: "Inbound messages settled and committed, by outcome: ingested, rejected (dead-lettered, nothing stored), partially-ingested (a batch's good entries stored, dead-lettered)."},
			[]string{"outcome"}),
		dead: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "codebridge_inbound_dead_lettered_total",
			Help: "Inbound messages written to the dead-letter topic, by error kind."}, []string{"kind"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "codebridge_inbound_retries_total",
			Help: "Inbound message attempts retried without committing, by cause: unavailable and internal (receiver faults), dead_letter_unavailable."},
			[]string{"cause"}),
		commits: prometheus.NewCounter(prometheus.CounterOpts{Name: "codebridge_inbound_commit_failures_total",
			Help: "Offset commits that failed (the message may be delivered again, a no-op)."}),
		seconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "codebridge_inbound_ingest_seconds",
			Help:    "Time to ingest one inbound message (one attempt), through the database commit.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}}),
		lag: prometheus.NewGauge(prometheus.GaugeOpts{Name: "codebridge_inbound_lag_messages",
			Help: "Messages behind the head of the partition of the last message fetched."}),
	}
	reg.MustRegister(m.consumedN, m.messages, m.dead, m.retries, m.commits, m.seconds, m.lag)
	return m
}

func (m *Metrics) consumed(msg kafka.Message) {
	if m != nil {
		m.consumedN.Inc()
		m.lag.Set(float64(max(msg.HighWaterMark-msg.Offset-1, 0)))
	}
}

func (m *Metrics) settled(v verdict) {
	if m != nil {
		m.messages.WithLabelValues(v.outcome).Inc()
	}
}

func (m *Metrics) deadLettered(kind string) {
	if m != nil {
		m.dead.WithLabelValues(kind).Inc()
	}
}

func (m *Metrics) retried(cause string) {
	if m != nil {
		m.retries.WithLabelValues(cause).Inc()
	}
}

func (m *Metrics) commitFailed() {
	if m != nil {
		m.commits.Inc()
	}
}

func (m *Metrics) observe(d time.Duration) {
	if m != nil {
		m.seconds.Observe(d.Seconds())
	}
}
