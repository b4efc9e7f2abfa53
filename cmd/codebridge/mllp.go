package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/codebridge/codebridge/adapters/mllp"
	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping/hl7v2"
	"github.com/codebridge/codebridge/mapping/ingest"
	"github.com/codebridge/codebridge/mapping/v2fhir"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// hl7Store is what the HL7 v2 listener reads beside ingesting: the stored
// Encounter and Patient a message updates, and whether a message was
// processed (and with the same content).
type hl7Store interface {
	ReadResource(ctx context.Context, typ, id string, version int) (workitem.StoredResource, error)
	MessageProcessed(ctx context.Context, k workitem.MessageKey) (seen, sameContent bool, err error)
	Withdrawn(ctx context.Context, typ, id string) (bool, error)
}

// hl7MessageTimeout bounds the handling of one message; past it the sender
// gets AR and retries, and the connection is free again.
const hl7MessageTimeout = 20 * time.Second

// hl7ConflictRetries bounds how often a message whose conditional write
// lost to a concurrent change of its visit or patient is read and mapped
// again before the sender gets AR (and retries later).
const hl7ConflictRetries = 3

// hl7Handler answers each MLLP frame: parse, check the processing id and
// the event, skip a re-sent MSH-10 (and one re-used for other content,
// acknowledged with a warning), read what is stored of the visit and
// patient, map to a FHIR transaction Bundle whose Encounter and Patient
// writes are conditional on what was read, ingest it through the same
// path as POST /fhir under the message's key, and only then acknowledge.
// A write that lost to a concurrent change is read, mapped and written
// again. Bad content is AE with ERR segments; an unsupported message or a
// receiver fault (the database down) is AR, which tells the sender to
// retry.
type hl7Handler struct {
	ingest  *ingest.Service
	store   hl7Store
	parser  *fhir.Parser
	opts    v2fhir.Options
	metrics *hl7Metrics
	logger  *slog.Logger
	now     func() time.Time
	// processingIDs are the MSH-11 processing ids taken
	// (CODEBRIDGE_HL7_PROCESSING_IDS); nil means P only.
	processingIDs []string
	// beforeWrite, when set (tests only), runs after a message is mapped
	// against what was read and before its Bundle is written, with the
	// event and the attempt (1 first): a test parks one message there to
	// force an interleaving.
	beforeWrite func(event string, attempt int)
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
	out := h.handle(mctx, msg, payload, event, eerr)
	h.metrics.observe(event, out.code, start, h.now())
	h.logger.Debug("hl7v2 message", "event", event, "control_id", hdr.ControlID, "ack", out.code)
	return h.respond(hdr, msg, out)
}

// handle processes one parsed message, whose event (v2fhir.Event) is
// event or the refusal eventErr, and says how to answer it.
func (h *hl7Handler) handle(ctx context.Context, msg *hl7v2.Message, payload []byte, event string, eventErr error) ack {
	hdr := msg.Header()
	if refused, ok := h.checkProcessingID(hdr); !ok {
		return refused
	}
	if eventErr != nil {
		return mapErrAck(eventErr, h.logger)
	}
	key := workitem.MessageKey{Source: "hl7v2:" + hdr.SendingApp + "^" + hdr.SendingFacility, ID: hdr.ControlID, Hash: messageHash(payload)}
	seen, same, err := h.store.MessageProcessed(ctx, key)
	switch {
	case err != nil:
		return receiverFault(err, h.logger)
	case seen && same:
		return ack{code: "AA"} // processed before: acknowledged, not applied again
	case seen:
		return h.controlIDReused(event, hdr.ControlID)
	}
	encID, patID, err := v2fhir.IDs(msg, h.opts)
	if err != nil {
		return mapErrAck(err, h.logger)
	}
	ctx = workitem.WithMessageKey(ctx, key)
	for attempt := 1; ; attempt++ {
		st, err := h.stored(ctx, encID, patID)
		if err != nil {
			return receiverFault(err, h.logger)
		}
		mapped, err := v2fhir.MapStored(msg, h.opts, st)
		if err != nil {
			return mapErrAck(err, h.logger)
		}
		if h.beforeWrite != nil {
			h.beforeWrite(event, attempt)
		}
		_, err = h.ingest.Raw(ctx, "hl7v2:"+hdr.SendingFacility, mapped.Bundle)
		if !versionConflict(err) || attempt > hl7ConflictRetries {
			return h.written(err, event, hdr.ControlID)
		}
	}
}

// versionConflict reports whether err is a conditional write that lost to
// a concurrent change (412 Precondition, or a 409 Conflict other than a
// message key already recorded): reading and mapping again can succeed.
func versionConflict(err error) bool {
	switch workitem.KindOf(err) {
	case workitem.Precondition:
		return true
	case workitem.Conflict:
		return !errors.Is(err, workitem.ErrDuplicateMessage) && !errors.Is(err, workitem.ErrMessageIDReused)
	}
	return false
}

// written answers the outcome of ingesting a message's Bundle (event and
// controlID name the message in a warning).
func (h *hl7Handler) written(err error, event, controlID string) ack {
	switch {
	case err == nil, errors.Is(err, workitem.ErrDuplicateMessage):
		return ack{code: "AA"}
	case errors.Is(err, workitem.ErrMessageIDReused):
		return h.controlIDReused(event, controlID)
	case versionConflict(err):
		h.logger.Warn("hl7v2 message not stored: its visit kept changing concurrently; answered AR", "attempts", 1+hl7ConflictRetries)
		return ack{code: "AR", details: []hl7v2.ErrDetail{{Segment: "MSH", Seq: 1, Code: "206",
			Text: "the visit was being updated concurrently; retry later"}}}
	case ingest.IsReceiverFault(err):
		return receiverFault(err, h.logger)
	}
	return ack{code: "AE", details: []hl7v2.ErrDetail{{Segment: "MSH", Seq: 1, Field: 9, Code: "207",
		Text: "the message maps to FHIR that codebridge refused: " + safeReason(err)}}}
}

// controlIDReused answers a message whose control id the sender already
// used for a message with other content (what messageHash does not
// ignore). The contract (CONTRACT.md §6) says a repeated MSH-10 gets AA and
// is not processed twice (many engines hold or stop the interface on AE),
// so it is AA and nothing is applied; but so that the loss is not
// silent, the ACK carries an ERR warning (severity W)
// at MSH-10, the codebridge_hl7_control_id_reused_total counter goes up
// and a warning is logged, naming the event and control id only.
func (h *hl7Handler) controlIDReused(event, controlID string) ack {
	h.metrics.reused.Inc()
	h.logger.Warn("hl7v2 message control id already used for a different message; answered AA with a warning, not applied",
		"event", event, "control_id", controlID)
	return ack{code: "AA", details: []hl7v2.ErrDetail{{Segment: "MSH", Seq: 1, Field: 10, Code: "207",
		Severity: hl7v2.SeverityWarning, Text: "message control id already used for a different message; not applied"}}}
}

// checkProcessingID checks MSH-11.1 (HL7 table 0103) against the ids this
// listener takes: empty is AE 101 (a required field), another id AR 202
// (unsupported processing id), so a training or debugging feed pointed at
// a production listener stores nothing.
func (h *hl7Handler) checkProcessingID(hdr hl7v2.Header) (ack, bool) {
	accepted := h.processingIDs
	if len(accepted) == 0 {
		accepted = []string{"P"}
	}
	id := strings.ToUpper(strings.TrimSpace(hdr.ProcessingID))
	switch {
	case id == "" || id == hl7v2.Null:
		return ack{code: "AE", details: []hl7v2.ErrDetail{{Segment: "MSH", Seq: 1, Field: 11, Code: "101",
			Text: "processing id is required"}}}, false
	case !slices.Contains(accepted, id):
		return ack{code: "AR", details: []hl7v2.ErrDetail{{Segment: "MSH", Seq: 1, Field: 11, Comp: 1, Code: "202",
			Text: "processing id is not accepted by this receiver (accepted: " + strings.Join(accepted, ", ") + ")"}}}, false
	}
	return ack{}, true
}

// messageHash is the SHA-256 a message's key is recorded with, telling a
// re-send (a plain AA) from another message under a re-used control id
// (AA with a warning; neither is applied). It is taken over the payload
// as sent, normalised for what a resend may change without changing the
// message: a leading UTF-8 BOM and blank lines before the MSH dropped,
// CRLF and LF segment separators made CR, trailing whitespace trimmed
// (another engine may re-frame lines), and MSH-7 (date/time of message)
// and MSH-13 (sequence number) blanked, with the MSH's trailing empty
// fields dropped (an interface engine regenerates both on a resend). Any
// other difference makes it another message.
func messageHash(payload []byte) []byte {
	p := bytes.TrimPrefix(payload, []byte("\xef\xbb\xbf"))
	p = bytes.ReplaceAll(p, []byte("\r\n"), []byte("\r"))
	p = bytes.ReplaceAll(p, []byte("\n"), []byte("\r"))
	p = bytes.TrimRight(bytes.TrimLeft(p, "\r"), " \t\r")
	msh, rest := p, []byte(nil)
	if i := bytes.IndexByte(p, '\r'); i >= 0 {
		msh, rest = p[:i], p[i:]
	}
	sum := sha256.New()
	sum.Write(blankMSHFields(msh, 7, 13))
	sum.Write(rest)
	return sum.Sum(nil)
}

// blankMSHFields returns the MSH segment line with fields ns (MSH-n
// numbering, n ≥ 3) emptied and trailing empty fields dropped; a line
// that is not an MSH is returned as is. The field separator is MSH-1,
// the byte after "MSH".
func blankMSHFields(line []byte, ns ...int) []byte {
	if len(line) < 4 || !bytes.HasPrefix(line, []byte("MSH")) {
		return line
	}
	sep := line[3:4]
	fields := bytes.Split(line, sep) // fields[0] "MSH", fields[n-1] MSH-n
	for _, n := range ns {
		if n >= 3 && n-1 < len(fields) {
			fields[n-1] = nil
		}
	}
	for len(fields) > 2 && len(fields[len(fields)-1]) == 0 {
		fields = fields[:len(fields)-1]
	}
	return bytes.Join(fields, sep)
}

// mapErrAck answers a refusal of the mapping: AR for an unsupported
// message, AE with one ERR per problem for bad content. An error that is
// not a *v2fhir.Error is the receiver's (a stored resource it could not
// read): AR, retry.
func mapErrAck(err error, logger *slog.Logger) ack {
	var me *v2fhir.Error
	if !errors.As(err, &me) {
		return receiverFault(err, logger)
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

// hl7Metrics counts messages by event and ACK code, and times them; it
// also counts control ids re-used for other content, without labels (a
// sender's application or facility name is not worth the risk of a label
// that could identify a patient's care setting).
type hl7Metrics struct {
	messages *prometheus.CounterVec
	seconds  *prometheus.HistogramVec
	reused   prometheus.Counter
}

func newHL7Metrics(reg prometheus.Registerer) *hl7Metrics {
	m := &hl7Metrics{
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "codebridge_hl7_messages_total",
			Help: "HL7 v2 messages answered, by event (ADT^A01...) and application ACK code."}, []string{"event", "ack"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "codebridge_hl7_message_seconds",
			Help: "Time from frame received to ACK built, by event.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}, []string{"event"}),
		reused: prometheus.NewCounter(prometheus.CounterOpts{Name: "codebridge_hl7_control_id_reused_total",
			Help: "HL7 v2 messages whose MSH-10 the sender had already used for a message with other content: answered AA with a warning, not applied."}),
	}
	reg.MustRegister(m.messages, m.seconds, m.reused)
	return m
}

func (m *hl7Metrics) observe(event, code string, start, end time.Time) {
	m.messages.WithLabelValues(event, code).Inc()
	m.seconds.WithLabelValues(event).Observe(end.Sub(start).Seconds())
}

// newHL7Handler wires the HL7 v2 handler to m's store and configuration,
// its metrics registered with reg.
func newHL7Handler(m *Main, parser *fhir.Parser, reg prometheus.Registerer) *hl7Handler {
	return &hl7Handler{
		ingest:        &ingest.Service{Parser: parser, Store: m.Store, MaxBundleEntries: m.Config.MaxBundleEntries},
		store:         m.Store,
		parser:        parser,
		opts:          v2fhir.Options{Aliases: m.Config.HL7CodeAliases},
		metrics:       newHL7Metrics(reg),
		logger:        m.Logger,
		now:           time.Now,
		processingIDs: m.Config.HL7ProcessingIDs,
	}
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
	h := newHL7Handler(m, parser, m.Registry)
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
