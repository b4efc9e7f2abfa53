package mllp

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the transport's Prometheus metrics: connection and framing
// counts, never anything about message content. A nil *Metrics records
// nothing.
type Metrics struct {
	open      prometheus.Gauge
	accepted  prometheus.Counter
	rejected  *prometheus.CounterVec
	received  prometheus.Counter
	sent      prometheus.Counter
	oversized prometheus.Counter
	framing   *prometheus.CounterVec
	skipped   prometheus.Counter
	idle      prometheus.Counter
	panics    prometheus.Counter
	handler   prometheus.Histogram
}

// Framing error reasons, the values of the reason label of
// codebridge_mllp_framing_errors_total.
const (
	reasonStartInFrame   = "start_in_frame"   // a start block before the end of a frame
	reasonClosedMidFrame = "closed_mid_frame" // the connection ended inside a frame
	reasonReadTimeout    = "read_timeout"     // a frame did not complete within ReadTimeout
)

// Rejected connection reasons, the values of the reason label of
// codebridge_mllp_connections_rejected_total.
const (
	reasonMaxConns = "max_conns"
	reasonTLS      = "tls_handshake"
)

// NewMetrics registers the transport's metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		open: prometheus.NewGauge(prometheus.GaugeOpts{Name: "codebridge_mllp_connections_open",
			Help: "MLLP connections currently open."}),
		accepted: prometheus.NewCounter(prometheus.CounterOpts{Name: "codebridge_mllp_connections_total",
			Help: "MLLP connections accepted and served."}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "codebridge_mllp_connections_rejected_total",
			Help: "MLLP connections closed before serving: over MaxConns, or a failed TLS handshake."}, []string{"reason"}),
		received: prometheus.NewCounter(prometheus.CounterOpts{Name: "codebridge_mllp_frames_received_total",
			Help: "Complete MLLP frames received within the size limit."}),
		sent: prometheus.NewCounter(prometheus.CounterOpts{Name: "codebridge_mllp_frames_sent_total",
			Help: "MLLP response frames written."}),
		oversized: prometheus.NewCounter(prometheus.CounterOpts{Name: "codebridge_mllp_oversized_frames_total",
			Help: "MLLP frames refused for exceeding the size limit."}),
		framing: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "codebridge_mllp_framing_errors_total",
			Help: "Frames lost to a framing error: start_in_frame, closed_mid_frame, read_timeout."}, []string{"reason"}),
		skipped: prometheus.NewCounter(prometheus.CounterOpts{Name: "codebridge_mllp_skipped_bytes_total",
			Help: "Bytes received outside any frame (garbage, stray CR/LF) and discarded."}),
		idle: prometheus.NewCounter(prometheus.CounterOpts{Name: "codebridge_mllp_idle_timeouts_total",
			Help: "MLLP connections closed because no frame started within IdleTimeout."}),
		panics: prometheus.NewCounter(prometheus.CounterOpts{Name: "codebridge_mllp_handler_panics_total",
			Help: "Handler calls that panicked; their connection was closed."}),
		handler: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "codebridge_mllp_handler_seconds",
			Help:    "Time the handler took to answer one frame.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}}),
	}
	for _, r := range []string{reasonStartInFrame, reasonClosedMidFrame, reasonReadTimeout} {
		m.framing.WithLabelValues(r)
	}
	for _, r := range []string{reasonMaxConns, reasonTLS} {
		m.rejected.WithLabelValues(r)
	}
	reg.MustRegister(m.open, m.accepted, m.rejected, m.received, m.sent, m.oversized,
		m.framing, m.skipped, m.idle, m.panics, m.handler)
	return m
}

func (m *Metrics) connOpened() {
	if m != nil {
		m.open.Inc()
		m.accepted.Inc()
	}
}

func (m *Metrics) connClosed() {
	if m != nil {
		m.open.Dec()
	}
}

func (m *Metrics) connRejected(reason string) {
	if m != nil {
		m.rejected.WithLabelValues(reason).Inc()
	}
}

// readerDelta records what a Reader counted since prev.
func (m *Metrics) readerDelta(prev, cur Stats) {
	if m == nil {
		return
	}
	m.received.Add(float64(cur.Frames - prev.Frames))
	m.oversized.Add(float64(cur.Oversized - prev.Oversized))
	m.skipped.Add(float64(cur.Skipped - prev.Skipped))
	if n := cur.Abandoned - prev.Abandoned; n > 0 {
		m.framing.WithLabelValues(reasonStartInFrame).Add(float64(n))
	}
}

func (m *Metrics) framingError(reason string) {
	if m != nil {
		m.framing.WithLabelValues(reason).Inc()
	}
}

func (m *Metrics) idleTimeout() {
	if m != nil {
		m.idle.Inc()
	}
}

func (m *Metrics) handled(d time.Duration, panicked bool) {
	if m == nil {
		return
	}
	m.handler.Observe(d.Seconds())
	if panicked {
		m.panics.Inc()
	}
}

func (m *Metrics) framesSent(n int) {
	if m != nil {
		m.sent.Add(float64(n))
	}
}
