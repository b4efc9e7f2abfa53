package kafkapub

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// Publisher is what the relay needs of a *kafka.Writer.
type Publisher interface {
	WriteMessages(ctx context.Context, msgs ...kafka.Message) error
}

// RelayOptions tune a Relay; zero values take the defaults in brackets.
type RelayOptions struct {
	Batch int // records claimed per round [500]
	// Lease is how long a claim keeps other relays off [65s]. It is raised
	// to at least 2×PublishTimeout + SettleTimeout, so that a claim cannot
	// expire (and another relay re-publish the batch) while it is still
	// being published or its outcome recorded.
	Lease          time.Duration
	Poll           time.Duration        // wait when the outbox is empty [20ms]
	PublishTimeout time.Duration        // bound on one publish, also at shutdown [30s]
	Retry          workitem.RetryPolicy // [10 attempts, 500ms doubling to 30s]
	// MaxMessageBytes must match the writer's limit; records over it are
	// dead-lettered without trying [1,000,000].
	MaxMessageBytes int
	Retention       time.Duration // sent records are deleted after this [7 days]
	SweepEvery      time.Duration // how often the retention sweep runs [1m]
	Logger          *slog.Logger
	Metrics         *Metrics // nil: no metrics
}

// SettleTimeout bounds recording the outcome of a publish (MarkSent,
// MarkFailed). It runs on a context of its own, so a publish that used up
// PublishTimeout, or a shutdown, still gets its outcome recorded.
const SettleTimeout = 5 * time.Second

func (o *RelayOptions) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if o.Batch <= 0 {
		o.Batch = 500
	}
	def(&o.Poll, 20*time.Millisecond)
	def(&o.PublishTimeout, 30*time.Second)
	// A round holds its claim for up to PublishTimeout (dead-lettering,
	// the publish and the one-by-one retries share it) plus SettleTimeout;
	// twice the publish bound leaves room for clock skew between the
	// relay and the database and for a slow claim commit.
	o.Lease = max(o.Lease, 2*o.PublishTimeout+SettleTimeout)
	def(&o.Retention, 7*24*time.Hour)
	def(&o.SweepEvery, time.Minute)
	if o.Retry.MaxAttempts <= 0 {
		o.Retry = workitem.RetryPolicy{MaxAttempts: 10, Base: 500 * time.Millisecond, Cap: 30 * time.Second}
	}
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = 1_000_000
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Relay moves records from the outbox to Kafka. Several relays, in one
// process or many, may share one outbox.
type Relay struct {
	store workitem.Outbox
	pub   Publisher
	o     RelayOptions
}

// NewRelay returns a relay from store to pub.
func NewRelay(store workitem.Outbox, pub Publisher, o RelayOptions) *Relay {
	o.defaults()
	return &Relay{store: store, pub: pub, o: o}
}

// Run relays until ctx is done. It never returns early: database and broker
// errors are logged and retried with a growing pause (up to 5 s). A round
// that claimed records is followed at once by the next; the retention sweep
// runs between rounds once every SweepEvery.
func (r *Relay) Run(ctx context.Context) {
	nextSweep := time.Now().Add(r.o.SweepEvery)
	workitem.Poll(ctx, workitem.PollOptions{
		Idle:       r.o.Poll,
		MaxBackoff: 5 * time.Second,
		OnError: func(err error) {
			r.o.Logger.Warn("outbox relay round failed", "error", err.Error())
		},
		Every: func(ctx context.Context) {
			if time.Now().After(nextSweep) {
				r.sweep(ctx)
				nextSweep = time.Now().Add(r.o.SweepEvery)
			}
		},
	}, r.RunOnce)
}

func (r *Relay) sweep(ctx context.Context) {
	n, err := r.store.DeleteSent(ctx, time.Now().Add(-r.o.Retention), 10_000)
	if err != nil {
		r.o.Logger.Warn("outbox retention sweep failed", "error", err.Error())
	} else if n > 0 {
		r.o.Logger.Info("outbox retention sweep", "deleted", n)
	}
}

// RunOnce claims one batch, publishes it and records the outcome. It
// reports how many records it claimed. Once claimed, a batch is published
// and marked even if ctx is cancelled meanwhile (within PublishTimeout).
func (r *Relay) RunOnce(ctx context.Context) (int, error) {
	recs, err := r.store.Claim(ctx, r.o.Batch, r.o.Lease)
	if err != nil || len(recs) == 0 {
		return 0, err
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.o.PublishTimeout)
	defer cancel()
	recs, err = r.deadLetterOversized(pctx, recs)
	if err != nil || len(recs) == 0 {
		return len(recs), err
	}
	msgs := toKafka(recs)
	start := time.Now()
	perr := r.pub.WriteMessages(pctx, msgs...)
	r.o.Metrics.observePublish(time.Since(start))
	perr = r.isolate(pctx, msgs, perr)
	// The publish may have used up pctx: record its outcome on a fresh
	// context, or a delivered batch would be published again once its lease
	// ran out, and a failure would lose its reason and backoff.
	sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), SettleTimeout)
	defer scancel()
	return len(recs), r.settle(sctx, recs, perr)
}

// isolate retries, one by one, the messages of a multi-message publish that
// failed with a record error: a broker rejects a whole batch when it is too
// large, and only the culprit should be charged for it. It returns the
// errors to settle, one per message.
func (r *Relay) isolate(ctx context.Context, msgs []kafka.Message, perr error) error {
	var werrs kafka.WriteErrors
	if len(msgs) < 2 || !errors.As(perr, &werrs) || len(werrs) != len(msgs) {
		return perr
	}
	out := make(kafka.WriteErrors, len(msgs))
	copy(out, werrs)
	for i, e := range werrs {
		if e != nil && recordError(e) {
			out[i] = single(r.pub.WriteMessages(ctx, msgs[i]))
		}
	}
	if out.Count() == 0 {
		return nil
	}
	return out
}

// deadLetterOversized dead-letters records no broker would take and returns
// the rest.
func (r *Relay) deadLetterOversized(ctx context.Context, recs []workitem.OutboxRecord) ([]workitem.OutboxRecord, error) {
	var keep []workitem.OutboxRecord
	var dead []int64
	for _, rec := range recs {
		if recordSize(rec.Message) > r.o.MaxMessageBytes {
			dead = append(dead, rec.ID)
			continue
		}
		keep = append(keep, rec)
	}
	if len(dead) == 0 {
		return recs, nil
	}
	r.o.Logger.Error("outbox records dead-lettered: too large", "ids", dead)
	r.o.Metrics.deadLettered(len(dead))
	return keep, r.store.MarkDead(ctx, dead, "message larger than the writer's max message bytes")
}

// recordSize over-estimates a record's encoded size.
func recordSize(m workitem.Message) int {
	n := 64 + len(m.Key) + len(m.Value)
	for k, v := range m.Headers {
		n += 16 + len(k) + len(v)
	}
	return n
}

// SeqHeader is the Kafka header carrying a record's per-key sequence number
// (1, 2, 3, ... per key). Consumers can drop a duplicate by it: a seq they
// have already seen for the key.
const SeqHeader = "codebridge-seq"

func toKafka(recs []workitem.OutboxRecord) []kafka.Message {
	out := make([]kafka.Message, len(recs))
	for i, rec := range recs {
		hs := make([]kafka.Header, 0, len(rec.Headers)+1)
		hs = append(hs, kafka.Header{Key: SeqHeader, Value: strconv.AppendInt(nil, rec.Seq, 10)})
		for k, v := range rec.Headers {
			hs = append(hs, kafka.Header{Key: k, Value: []byte(v)})
		}
		sort.Slice(hs, func(a, b int) bool { return hs[a].Key < hs[b].Key })
		out[i] = kafka.Message{Topic: rec.Topic, Key: []byte(rec.Key), Value: rec.Value, Headers: hs}
	}
	return out
}

// settle records the outcome of publishing recs: perr is nil, a
// kafka.WriteErrors with one entry per record, or one error for all.
func (r *Relay) settle(ctx context.Context, recs []workitem.OutboxRecord, perr error) error {
	var sent []workitem.OutboxRecord
	failed := map[failure][]int64{}
	var werrs kafka.WriteErrors
	for i, rec := range recs {
		e := perr
		if errors.As(perr, &werrs) && len(werrs) == len(recs) {
			e = werrs[i]
		}
		if e == nil {
			sent = append(sent, rec)
			continue
		}
		f := failure{reason(e), recordError(e)}
		failed[f] = append(failed[f], rec.ID)
	}
	var errs []error
	if len(sent) > 0 {
		errs = append(errs, r.markSent(ctx, sent))
	}
	for f, ids := range failed {
		p := r.o.Retry
		if !f.record {
			p.MaxAttempts = math.MaxInt32 // the broker's trouble, not the record's: wait it out
		}
		r.o.Metrics.failed(len(ids))
		dead, err := r.store.MarkFailed(ctx, ids, f.reason, p)
		r.o.Metrics.deadLettered(dead)
		r.o.Logger.Warn("outbox publish failed", "records", len(ids), "dead_lettered", dead, "error", f.reason)
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (r *Relay) markSent(ctx context.Context, recs []workitem.OutboxRecord) error {
	ids := make([]int64, len(recs))
	for i, rec := range recs {
		ids[i] = rec.ID
	}
	marked, err := r.store.MarkSent(ctx, ids...)
	if err != nil {
		return err
	}
	r.o.Metrics.sent(len(ids), len(ids)-marked)
	now := time.Now()
	for _, rec := range recs {
		r.o.Metrics.observeLag(now.Sub(rec.CreatedAt))
	}
	return nil
}

// single unwraps the WriteErrors of a one-message publish.
func single(err error) error {
	var werrs kafka.WriteErrors
	if errors.As(err, &werrs) && len(werrs) == 1 {
		return werrs[0]
	}
	return err
}

// failure groups failed records by what went wrong.
type failure struct {
	reason string
	record bool // the record itself is at fault; attempts count towards dead-lettering
}

// recordError reports whether err is the record's fault, so that retrying
// it can never help: then it counts towards RetryPolicy.MaxAttempts. Broker,
// network, topic and timeout trouble is retried without limit, so an outage
// delays events and never dead-letters them.
func recordError(err error) bool {
	var tooLarge kafka.MessageTooLargeError
	if errors.As(err, &tooLarge) {
		return true
	}
	var ke kafka.Error
	if !errors.As(err, &ke) {
		return false
	}
	switch ke {
	case kafka.MessageSizeTooLarge, kafka.InvalidMessage, kafka.InvalidRecord,
		kafka.RecordListTooLarge, kafka.InvalidMessageSize, kafka.InvalidTimestamp:
		return true
	}
	return false
}

// reason turns a publish error into a short text for last_error: the error
// of a broker or a network, which never carries record content.
func reason(err error) string {
	var ke kafka.Error
	if errors.As(err, &ke) {
		return "kafka: " + ke.Title()
	}
	s := err.Error()
	if len(s) > 300 {
		s = s[:300]
	}
	return s
}
