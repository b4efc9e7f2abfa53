package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/codebridge/codebridge/adapters/hl7v2"
	"github.com/codebridge/codebridge/adapters/mllp"
	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping/ingest"
	"github.com/codebridge/codebridge/mapping/v2fhir"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// hl7Store is what the HL7 v2 listener reads beside ingesting: the stored
// Encounter a message updates, and whether a message was processed.
type hl7Store interface {
	ReadResource(ctx context.Context, typ, id string, version int) (workitem.StoredResource, error)
	MessageProcessed(ctx context.Context, k workitem.MessageKey) (bool, error)
	Withdrawn(ctx context.Context, typ, id string) (bool, error)
}

// hl7MessageTimeout bounds the handling of one message; past it the sender
// gets AR and retries, and the connection is free again.
const hl7MessageTimeout = 20 * time.Second

// hl7Handler answers each MLLP frame: parse, check the event, skip a
// duplicate MSH-10, map to a FHIR transaction Bundle (with the stored
// Encounter for out-of-order rules), ingest it through the same path as
// POST /fhir under the message's key, and only then acknowledge. Bad
// content is AE with ERR segments; an unsupported message or a receiver
// fault (the database down) is AR, which tells the sender to retry.
type hl7Handler struct {
	ingest  *ingest.Service
	store   hl7Store
	parser  *fhir.Parser
	opts    v2fhir.Options
	metrics *hl7Metrics
	logger  *slog.Logger
	now     func() time.Time
}

// ack is one outcome: the application ACK code and its ERR details.
type ack struct {
	code    string // AA, AE or AR
	details []hl7v2.ErrDetail
}

func (h *hl7Handler) ServeMLLP(ctx context.Context, payload []byte) [][]byte {
	start := h.now()
	msg, err := hl7v2.Parse(payload)
	if err != nil {
		var pe *hl7v2.ParseError
		code := "AE"
		if !errors.As(err, &pe) {
			pe = &hl7v2.ParseError{Segment: "MSH", Seq: 1, Code: "207", Reason: "message could not be parsed"}
		}
		if pe.Code == "200" || pe.Code == "201" || pe.Code == "203" {
			code = "AR"
		}
		hdr := hl7v2.SalvageHeader(payload)
		h.metrics.observe("unparseable", code, start, h.now())
		return h.respond(hdr, nil, ack{code: code, details: []hl7v2.ErrDetail{pe.Detail()}})
	}
	hdr := msg.Header()
	event, eerr := v2fhir.Event(msg) // a label from the fixed set codebridge takes
	if eerr != nil {
		event = "unsupported"
	}
	mctx, cancel := context.WithTimeout(ctx, hl7MessageTimeout)
	defer cancel()
	out := h.handle(mctx, msg)
	h.metrics.observe(event, out.code, start, h.now())
	h.logger.Debug("hl7v2 message", "event", event, "control_id", hdr.ControlID, "ack", out.code)
	return h.respond(hdr, msg, out)
}

// handle processes one parsed message and says how to answer it.
func (h *hl7Handler) handle(ctx context.Context, msg *hl7v2.Message) ack {
	hdr := msg.Header()
	if _, err := v2fhir.Event(msg); err != nil {
		return mapErrAck(err)
	}
	key := workitem.MessageKey{Source: "hl7v2:" + hdr.SendingApp + "^" + hdr.SendingFacility, ID: hdr.ControlID}
	if seen, err := h.store.MessageProcessed(ctx, key); err != nil {
		return receiverFault(err, h.logger)
	} else if seen {
		return ack{code: "AA"} // processed before: acknowledged, not applied again
	}
	encID, err := v2fhir.EncounterID(msg, h.opts)
	if err != nil {
		return mapErrAck(err)
	}
	prior, err := h.prior(ctx, encID)
	if err != nil {
		return receiverFault(err, h.logger)
	}
	mapped, err := v2fhir.Map(msg, h.opts, prior)
	if err != nil {
		return mapErrAck(err)
	}
	actor := "hl7v2:" + hdr.SendingFacility
	_, err = h.ingest.Raw(workitem.WithMessageKey(ctx, key), actor, mapped.Bundle)
	switch {
	case err == nil, errors.Is(err, workitem.ErrDuplicateMessage):
		return ack{code: "AA"}
	case ingest.IsReceiverFault(err) || errors.Is(err, workitem.ErrConditionalRace):
		return receiverFault(err, h.logger)
	}
	return ack{code: "AE", details: []hl7v2.ErrDetail{{Segment: "MSH", Seq: 1, Field: 9, Code: "207",
		Text: "the message maps to FHIR that codebridge refused: " + safeReason(err)}}}
}

// prior returns the stored Encounter's state for the out-of-order rules:
// nil when the visit is new; entered-in-error when it was withdrawn (a FHIR
// DELETE), so a later message does not bring it back.
func (h *hl7Handler) prior(ctx context.Context, encID string) (*v2fhir.Prior, error) {
	stored, err := h.store.ReadResource(ctx, "Encounter", encID, 0)
	var de *workitem.Error
	if errors.As(err, &de) && de.Kind == workitem.NotFound {
		if gone, err := h.store.Withdrawn(ctx, "Encounter", encID); err != nil || gone {
			return &v2fhir.Prior{Status: "entered-in-error"}, err
		}
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if stored.Deleted {
		return &v2fhir.Prior{Status: "entered-in-error"}, nil
	}
	res, err := h.parser.Parse(stored.Raw)
	if err != nil {
		return nil, err
	}
	enc, err := fhir.EncounterOf(res)
	if err != nil {
		return nil, err
	}
	return v2fhir.PriorOf(enc), nil
}

// mapErrAck answers a refusal of the mapping: AR for an unsupported
// message, AE with one ERR per problem for bad content.
func mapErrAck(err error) ack {
	var me *v2fhir.Error
	if !errors.As(err, &me) {
		return ack{code: "AE", details: []hl7v2.ErrDetail{{Segment: "MSH", Seq: 1, Code: "207", Text: "message could not be mapped"}}}
	}
	code := "AE"
	if me.Kind == v2fhir.Unsupported {
		code = "AR"
	}
	return ack{code: code, details: me.Details}
}

// receiverFault is AR 207: the sender keeps the message and retries.
func receiverFault(err error, logger *slog.Logger) ack {
	logger.Warn("hl7v2 message not stored; answered AR", "error_kind", kindOf(err))
	return ack{code: "AR", details: []hl7v2.ErrDetail{{Segment: "MSH", Seq: 1, Code: "207",
		Text: "receiver could not store the message now; retry later"}}}
}

func kindOf(err error) string {
	var de *workitem.Error
	if errors.As(err, &de) {
		return de.Kind.String()
	}
	return "internal"
}

// safeReason names what was refused without echoing content: the first
// issue's FHIRPath, else the error kind.
func safeReason(err error) string {
	var de *workitem.Error
	if errors.As(err, &de) {
		for _, is := range de.Issues {
			if len(is.Expression) > 0 {
				return de.Kind.String() + " at " + is.Expression[0]
			}
		}
		return de.Kind.String()
	}
	return "internal"
}

// respond builds the answer frames. Original mode: one application ACK.
// Enhanced mode (MSH-15/16 valued): an accept ACK (CA/CE/CR) when MSH-15
// asks for it, then the application ACK when MSH-16 asks for it; both are
// sent after the commit, on the same connection, accept first.
func (h *hl7Handler) respond(hdr hl7v2.Header, msg *hl7v2.Message, a ack) [][]byte {
	build := func(code string) []byte {
		if msg != nil {
			return hl7v2.NewACK(msg, code, newControlID(), h.now(), a.details...)
		}
		return hl7v2.NewACKFromHeader(hdr, code, newControlID(), h.now(), a.details...)
	}
	if !hdr.Enhanced() {
		return [][]byte{build(a.code)}
	}
	ok := a.code == "AA"
	var out [][]byte
	if wants(hdr.AcceptAck, ok) {
		out = append(out, build("C"+a.code[1:]))
	}
	if wants(hdr.AppAck, ok) {
		out = append(out, build(a.code))
	}
	return out
}

// wants reads an HL7 table 0155 acknowledgment condition: AL always, NE
// never, ER only on errors, SU only on success; empty means never in
// enhanced mode.
func wants(cond string, ok bool) bool {
	switch cond {
	case "AL":
		return true
	case "ER":
		return !ok
	case "SU":
		return ok
	}
	return false
}

// newControlID is a fresh MSH-10 for an ACK: 20 characters, the HL7 ST
// limit of the field in v2.5.
func newControlID() string {
	var b [9]byte
	_, _ = rand.Read(b[:])
	return "CB" + hex.EncodeToString(b[:])
}

// refuseOversized answers a frame over CODEBRIDGE_MLLP_MAX_FRAME_BYTES from
// the MSH at its head: AR, since sending it again will not help until the
// limit is raised or the message split.
func (h *hl7Handler) refuseOversized(max int) func(head []byte) []byte {
	return func(head []byte) []byte {
		h.metrics.observe("oversized", "AR", h.now(), h.now())
		return hl7v2.NewACKFromHeader(hl7v2.SalvageHeader(head), "AR", newControlID(), h.now(), hl7v2.ErrDetail{
			Segment: "MSH", Seq: 1, Code: "207", Text: fmt.Sprintf("message larger than the receiver's limit of %d bytes", max)})
	}
}

// hl7Metrics counts messages by event and ACK code, and times them.
type hl7Metrics struct {
	messages *prometheus.CounterVec
	seconds  *prometheus.HistogramVec
}

func newHL7Metrics(reg prometheus.Registerer) *hl7Metrics {
	m := &hl7Metrics{
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "codebridge_hl7_messages_total",
			Help: "HL7 v2 messages answered, by event (ADT^A01...) and application ACK code."}, []string{"event", "ack"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "codebridge_hl7_message_seconds",
			Help: "Time from frame received to ACK built, by event.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}, []string{"event"}),
	}
	reg.MustRegister(m.messages, m.seconds)
	return m
}

func (m *hl7Metrics) observe(event, code string, start, end time.Time) {
	m.messages.WithLabelValues(event, code).Inc()
	m.seconds.WithLabelValues(event).Observe(end.Sub(start).Seconds())
}

// startMLLP runs the HL7 v2 listener when CODEBRIDGE_MLLP_ADDR is set.
// Close shuts it down first among the workers: frames in flight are
// answered, and anything unanswered is re-sent by the sender and recognised
// by its MSH-10.
func (m *Main) startMLLP() error {
	if m.Config.MLLPAddr == "" {
		return nil
	}
	parser, err := fhir.NewParser()
	if err != nil {
		return err
	}
	h := &hl7Handler{
		ingest:  &ingest.Service{Parser: parser, Store: m.Store, MaxBundleEntries: m.Config.MaxBundleEntries},
		store:   m.Store,
		parser:  parser,
		opts:    v2fhir.Options{Aliases: m.Config.HL7CodeAliases},
		metrics: newHL7Metrics(m.Registry),
		logger:  m.Logger,
		now:     time.Now,
	}
	srv := &mllp.Server{
		Handler:      h,
		Oversized:    h.refuseOversized(m.Config.MLLPMaxFrameBytes),
		MaxFrame:     m.Config.MLLPMaxFrameBytes,
		ReadTimeout:  m.Config.MLLPReadTimeout,
		IdleTimeout:  m.Config.MLLPIdleTimeout,
		WriteTimeout: 30 * time.Second,
		MaxConns:     512,
		Logger:       m.Logger,
		Metrics:      mllp.NewMetrics(m.Registry),
	}
	if m.Config.MLLPTLSCert != "" {
		cert, err := tls.LoadX509KeyPair(m.Config.MLLPTLSCert, m.Config.MLLPTLSKey)
		if err != nil {
			return fmt.Errorf("CODEBRIDGE_MLLP_TLS_CERT/KEY: %w", err)
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	l, err := net.Listen("tcp", m.Config.MLLPAddr)
	if err != nil {
		return fmt.Errorf("CODEBRIDGE_MLLP_ADDR %s: %w", m.Config.MLLPAddr, err)
	}
	m.MLLPAddr = l.Addr().String()
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, mllp.ErrServerClosed) {
			m.Logger.Error("mllp server stopped", "error", err.Error())
		}
	}()
	m.closers = append(m.closers, srv.Shutdown)
	m.Logger.Info("mllp listening", "addr", m.MLLPAddr, "tls", srv.TLSConfig != nil)
	return nil
}
