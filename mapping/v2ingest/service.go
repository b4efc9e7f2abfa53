package v2ingest

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping/hl7v2"
	"github.com/codebridge/codebridge/mapping/ingest"
	"github.com/codebridge/codebridge/mapping/v2fhir"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// Store is what the use case reads beside ingesting: the stored Encounter
// and Patient a message updates, and whether a message was processed (and
// with the same content). *postgres.Store satisfies it.
type Store interface {
	// ReadResource returns version of Type/id, 0 meaning the current one.
	// Errors: NotFound, Transient, Internal.
	ReadResource(ctx context.Context, typ, id string, version int) (workitem.StoredResource, error)
	// MessageProcessed reports whether a message under k's source and id
	// was committed, and whether with the same content hash (a key without
	// a hash, either side, counts as the same). Errors: Transient, Internal.
	MessageProcessed(ctx context.Context, k workitem.MessageKey) (seen, sameContent bool, err error)
	// Withdrawn reports whether Type/id was deleted and has no current
	// version. Errors: Transient, Internal.
	Withdrawn(ctx context.Context, typ, id string) (bool, error)
}

// MessageTimeout bounds the handling of one message; past it the sender
// gets AR and retries, and the connection is free again.
const MessageTimeout = 20 * time.Second

// ConflictRetries bounds how often a message whose conditional write lost
// to a concurrent change of its visit or patient is read and mapped again
// before the sender gets AR 206 (and retries later).
const ConflictRetries = 3

// Options are a Service's dependencies and settings.
type Options struct {
	// Ingest writes a message's Bundle, under the message's key; required.
	Ingest *ingest.Service
	// Store reads what the writes are conditional on; required.
	Store Store
	// Parser parses the stored Encounter; required.
	Parser *fhir.Parser
	// Mapping tunes v2fhir (coding-system aliases, time zone).
	Mapping v2fhir.Options
	// ProcessingIDs are the MSH-11 processing ids taken
	// (CODEBRIDGE_HL7_PROCESSING_IDS, upper-case); nil means P only.
	ProcessingIDs []string
	// Logger receives warnings without content; nil discards them.
	Logger *slog.Logger
	// Metrics counts messages by event and ACK; nil counts them in
	// metrics registered nowhere.
	Metrics *Metrics
	// Now is the clock of ACKs and timings; nil means time.Now.
	Now func() time.Time
}

// Service answers HL7 v2 messages (see the package doc). It is safe for
// concurrent use when its Store and Ingest are.
type Service struct {
	ingest        *ingest.Service
	store         Store
	parser        *fhir.Parser
	mapping       v2fhir.Options
	processingIDs []string
	logger        *slog.Logger
	metrics       *Metrics
	now           func() time.Time
}

// New returns a Service with o's dependencies.
func New(o Options) *Service {
	s := &Service{ingest: o.Ingest, store: o.Store, parser: o.Parser, mapping: o.Mapping,
		processingIDs: o.ProcessingIDs, logger: o.Logger, metrics: o.Metrics, now: o.Now}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.metrics == nil {
		s.metrics = NewMetrics(nil)
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// ack is one outcome: the application ACK code and its ERR details.
type ack struct {
	code    string // AA, AE or AR
	details []hl7v2.ErrDetail
}

// Handle answers one message (an MLLP frame's payload) with its ACK
// frames, after what the message asks was committed: one application ACK
// in original mode; in enhanced mode (MSH-15/16 valued) the accept ACK
// and then the application ACK, each when MSH-15/16 ask for it. It has
// the shape of an MLLP handler.
func (s *Service) Handle(ctx context.Context, payload []byte) [][]byte {
	start := s.now()
	msg, err := hl7v2.Parse(payload)
	if err != nil {
		code, detail := parseRefusal(err)
		s.metrics.observe("unparseable", code, start, s.now())
		return s.respond(hl7v2.SalvageHeader(payload), nil, ack{code: code, details: []hl7v2.ErrDetail{detail}})
	}
	hdr := msg.Header()
	event, eerr := v2fhir.Event(msg) // a label from the fixed set codebridge takes
	if eerr != nil {
		event = "unsupported"
	}
	mctx, cancel := context.WithTimeout(ctx, MessageTimeout)
	defer cancel()
	out := s.handle(mctx, msg, payload, event, eerr)
	s.metrics.observe(event, out.code, start, s.now())
	s.logger.Debug("hl7v2 message", "event", event, "control_id", hdr.ControlID, "ack", out.code)
	return s.respond(hdr, msg, out)
}

// parseRefusal answers a message that does not parse: AR when its
// encoding or version is not one codebridge takes (200, 201, 203), else
// AE with where it broke.
func parseRefusal(err error) (string, hl7v2.ErrDetail) {
	var pe *hl7v2.ParseError
	if !errors.As(err, &pe) {
		pe = &hl7v2.ParseError{Segment: "MSH", Seq: 1, Code: "207", Reason: "message could not be parsed"}
	}
	if pe.Code == "200" || pe.Code == "201" || pe.Code == "203" {
		return "AR", pe.Detail()
	}
	return "AE", pe.Detail()
}

// handle processes one parsed message, whose event (v2fhir.Event) is
// event or the refusal eventErr, and says how to answer it.
func (s *Service) handle(ctx context.Context, msg *hl7v2.Message, payload []byte, event string, eventErr error) ack {
	hdr := msg.Header()
	if refused, ok := s.checkProcessingID(hdr); !ok {
		return refused
	}
	if eventErr != nil {
		return s.mapErrAck(eventErr)
	}
	key := workitem.MessageKey{Source: "hl7v2:" + hdr.SendingApp + "^" + hdr.SendingFacility, ID: hdr.ControlID, Hash: messageHash(payload)}
	seen, same, err := s.store.MessageProcessed(ctx, key)
	switch {
	case err != nil:
		return s.receiverFault(err)
	case seen && same:
		return ack{code: "AA"} // processed before: acknowledged, not applied again
	case seen:
		return s.controlIDReused(event, hdr.ControlID)
	}
	encID, patID, err := v2fhir.IDs(msg, s.mapping)
	if err != nil {
		return s.mapErrAck(err)
	}
	return s.write(workitem.WithMessageKey(ctx, key), msg, event, encID, patID)
}

// write reads what is stored of the visit and patient, maps the message
// against it and ingests the Bundle; a write that lost to a concurrent
// change is done again, up to ConflictRetries times.
func (s *Service) write(ctx context.Context, msg *hl7v2.Message, event, encID, patID string) ack {
	hdr := msg.Header()
	for attempt := 1; ; attempt++ {
		st, err := s.stored(ctx, encID, patID)
		if err != nil {
			return s.receiverFault(err)
		}
		mapped, err := v2fhir.MapStored(msg, s.mapping, st)
		if err != nil {
			return s.mapErrAck(err)
		}
		_, err = s.ingest.Raw(ctx, "hl7v2:"+hdr.SendingFacility, mapped.Bundle)
		if !versionConflict(err) || attempt > ConflictRetries {
			return s.written(err, event, hdr.ControlID)
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
func (s *Service) written(err error, event, controlID string) ack {
	switch {
	case err == nil, errors.Is(err, workitem.ErrDuplicateMessage):
		return ack{code: "AA"}
	case errors.Is(err, workitem.ErrMessageIDReused):
		return s.controlIDReused(event, controlID)
	case versionConflict(err):
		s.logger.Warn("hl7v2 message not stored: its visit kept changing concurrently; answered AR", "attempts", 1+ConflictRetries)
		return ack{code: "AR", details: []hl7v2.ErrDetail{{Segment: "MSH", Seq: 1, Code: "206",
			Text: "the visit was being updated concurrently; retry later"}}}
	case ingest.IsReceiverFault(err):
		return s.receiverFault(err)
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
func (s *Service) controlIDReused(event, controlID string) ack {
	s.metrics.reused.Inc()
	s.logger.Warn("hl7v2 message control id already used for a different message; answered AA with a warning, not applied",
		"event", event, "control_id", controlID)
	return ack{code: "AA", details: []hl7v2.ErrDetail{{Segment: "MSH", Seq: 1, Field: 10, Code: "207",
		Severity: hl7v2.SeverityWarning, Text: "message control id already used for a different message; not applied"}}}
}

// checkProcessingID checks MSH-11.1 (HL7 table 0103) against the ids this
// listener takes: empty is AE 101 (a required field), another id AR 202
// (unsupported processing id), so a training or debugging feed pointed at
// a production listener stores nothing.
func (s *Service) checkProcessingID(hdr hl7v2.Header) (ack, bool) {
	accepted := s.processingIDs
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

// mapErrAck answers a refusal of the mapping: AR for an unsupported
// message, AE with one ERR per problem for bad content. An error that is
// not a *v2fhir.Error is the receiver's (a stored resource it could not
// read): AR, retry.
func (s *Service) mapErrAck(err error) ack {
	var me *v2fhir.Error
	if !errors.As(err, &me) {
		return s.receiverFault(err)
	}
	code := "AE"
	if me.Kind == v2fhir.Unsupported {
		code = "AR"
	}
	return ack{code: code, details: me.Details}
}

// receiverFault is AR 207: the sender keeps the message and retries.
func (s *Service) receiverFault(err error) ack {
	s.logger.Warn("hl7v2 message not stored; answered AR", "error_kind", workitem.KindOf(err).String())
	return ack{code: "AR", details: []hl7v2.ErrDetail{{Segment: "MSH", Seq: 1, Code: "207",
		Text: "receiver could not store the message now; retry later"}}}
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
