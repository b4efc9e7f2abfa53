package v2ingest

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics count messages by event and ACK code, and time them; they also
// count control ids re-used for other content, without labels (a sender's
// application or facility name is not worth the risk of a label that
// could identify a patient's care setting).
type Metrics struct {
	messages *prometheus.CounterVec
	seconds  *prometheus.HistogramVec
	reused   prometheus.Counter
}

// NewMetrics returns the use case's metrics registered with reg; a nil
// reg registers them nowhere.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "codebridge_hl7_messages_total",
			Help: "HL7 v2 messages answered, by event (ADT^A01...) and application ACK code."}, []string{"event", "ack"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "codebridge_hl7_message_seconds",
			Help: "Time from frame received to ACK built, by event.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}, []string{"event"}),
		reused: prometheus.NewCounter(prometheus.CounterOpts{Name: "codebridge_hl7_control_id_reused_total",
			Help: "HL7 v2 messages whose MSH-10 the sender had already used for a message with other content: answered AA with a warning, not applied."}),
	}
	if reg != nil {
		reg.MustRegister(m.messages, m.seconds, m.reused)
	}
	return m
}

func (m *Metrics) observe(event, code string, start, end time.Time) {
	m.messages.WithLabelValues(event, code).Inc()
	m.seconds.WithLabelValues(event).Observe(end.Sub(start).Seconds())
}
