package kafkain

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/codebridge/codebridge/mapping/ingest"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// Outcomes of a message, as in the metrics and the codebridge-outcome
// dead-letter header.
const (
	outcomeIngested   = "ingested"
	outcomeRejected   = "rejected"           // nothing stored; dead-lettered
	outcomePartial    = "partially-ingested" // a batch's good entries stored; dead-lettered
	headerPrefix      = "codebridge-"
	headerOutcome     = "codebridge-outcome"
	headerOO          = "codebridge-operation-outcome"
	headerKind        = "codebridge-error-kind"
	headerTopic       = "codebridge-source-topic"
	headerPartition   = "codebridge-source-partition"
	headerOffset      = "codebridge-source-offset"
	headerValueDrop   = "codebridge-value-dropped"
	commitTimeout     = 10 * time.Second
	deadLetterTimeout = 30 * time.Second
)

// verdict is what became of a message that codebridge could judge.
type verdict struct {
	outcome string
	kind    workitem.Kind    // of the (first) failure, when not ingested
	issues  []workitem.Issue // the OperationOutcome's issues, when not ingested
}

// handle settles one message: ingest (retrying receiver faults), dead-letter
// it when it cannot be processed, then commit its offset. When ctx ends
// before the message is settled it returns without committing.
func (c *Consumer) handle(ctx context.Context, r *kafka.Reader, msg kafka.Message) {
	c.m.consumed(msg)
	v, ok := c.ingest(ctx, msg)
	if !ok {
		return
	}
	if v.outcome != outcomeIngested {
		if !c.deadLetter(ctx, msg, v) {
			return
		}
		c.log.Info("kafka inbound message dead-lettered", "topic", msg.Topic, "partition", msg.Partition,
			"offset", msg.Offset, "kind", v.kind.String(), "outcome", v.outcome)
	}
	c.m.settled(v)
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
	defer cancel()
	if err := r.CommitMessages(cctx, msg); err != nil {
		// The message will be delivered again (after a rebalance, or to the
		// next member), which is a no-op: ingest is idempotent for it.
		c.m.commitFailed()
		c.log.Warn("kafka inbound offset commit failed; the message may be delivered again", "topic", msg.Topic,
			"partition", msg.Partition, "offset", msg.Offset, "error", err.Error())
	}
}

// ingest runs the message through the use case until it is judged,
// retrying receiver faults with backoff. The ingest itself is not cut short
// by ctx (a shutdown lets it finish); only the waits between retries are.
func (c *Consumer) ingest(ctx context.Context, msg kafka.Message) (verdict, bool) {
	seed := seedOf(msg)
	for b := c.backoff(); ; {
		start := time.Now()
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.o.ProcessTimeout)
		res, err := c.ing.RawSeeded(pctx, c.actor, seed, msg.Value)
		cancel()
		c.m.observe(time.Since(start))
		v, fault := judge(res, err)
		if fault == nil {
			return v, true
		}
		wait := b.next()
		kind := workitem.KindOf(fault).String()
		c.m.retried(kind)
		// The error itself is not logged: a database error can echo a value
		// from the message. The database readiness check tells the cause.
		c.log.Warn("kafka inbound message not ingested (receiver fault); retrying", "topic", msg.Topic, "partition", msg.Partition,
			"offset", msg.Offset, "kind", kind, "retry_in", wait.String())
		if !sleep(ctx, wait) {
			return verdict{}, false
		}
	}
}

// judge turns an ingest result into a verdict, or returns the receiver
// fault that means the message must be retried as it is.
func judge(res ingest.Result, err error) (verdict, error) {
	if err != nil {
		if ingest.IsReceiverFault(err) {
			return verdict{}, err
		}
		return verdict{outcome: outcomeRejected, kind: workitem.KindOf(err), issues: issuesOf(err, -1)}, nil
	}
	failed := res.Failed()
	for _, e := range failed {
		if ingest.IsReceiverFault(e.Err) {
			return verdict{}, e.Err
		}
	}
	if len(failed) == 0 {
		return verdict{outcome: outcomeIngested}, nil
	}
	v := verdict{outcome: outcomePartial, kind: failed[0].Err.Kind}
	for _, e := range failed {
		v.issues = append(v.issues, issuesOf(e.Err, e.Index)...)
	}
	return v, nil
}

// seedOf names a message for replay-safe creates: the same message
// (topic, partition, offset and value) always gives the same seed.
func seedOf(msg kafka.Message) string {
	sum := sha256.Sum256(msg.Value)
	return fmt.Sprintf("%s/%d/%d/%x", msg.Topic, msg.Partition, msg.Offset, sum[:16])
}

// deadLetter writes msg to the dead-letter topic with the verdict in its
// headers, retrying broker failures with backoff. It returns false when
// ctx ended first.
func (c *Consumer) deadLetter(ctx context.Context, msg kafka.Message, v verdict) bool {
	out := kafka.Message{Key: msg.Key, Value: msg.Value, Headers: deadLetterHeaders(msg, v)}
	for b := c.backoff(); ; {
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), deadLetterTimeout)
		err := c.dlq.WriteMessages(wctx, out)
		cancel()
		if err != nil && tooLarge(err) && out.Value != nil {
			out.Value = nil
			out.Headers = append(out.Headers, kafka.Header{Key: headerValueDrop, Value: []byte("too large for the dead-letter topic")})
			continue
		}
		if err == nil {
			c.m.deadLettered(v.kind.String())
			return true
		}
		wait := b.next()
		c.m.retried("dead_letter_unavailable")
		c.log.Warn("kafka inbound dead-letter write failed; retrying", "topic", msg.Topic, "partition", msg.Partition,
			"offset", msg.Offset, "dead_letter_topic", c.o.DeadLetterTopic, "error", err.Error(), "retry_in", wait.String())
		if !sleep(ctx, wait) {
			return false
		}
	}
}

// deadLetterHeaders keeps the message's own headers, minus any codebridge
// ones from an earlier dead-lettering, and adds the verdict and the source.
func deadLetterHeaders(msg kafka.Message, v verdict) []kafka.Header {
	var hs []kafka.Header
	for _, h := range msg.Headers {
		if !strings.HasPrefix(h.Key, headerPrefix) {
			hs = append(hs, h)
		}
	}
	return append(hs,
		kafka.Header{Key: headerOO, Value: operationOutcome(v.issues)},
		kafka.Header{Key: headerKind, Value: []byte(v.kind.String())},
		kafka.Header{Key: headerOutcome, Value: []byte(v.outcome)},
		kafka.Header{Key: headerTopic, Value: []byte(msg.Topic)},
		kafka.Header{Key: headerPartition, Value: []byte(strconv.Itoa(msg.Partition))},
		kafka.Header{Key: headerOffset, Value: []byte(strconv.FormatInt(msg.Offset, 10))},
	)
}

// tooLarge reports whether the broker (or the writer) refused a message
// for its size.
func tooLarge(err error) bool {
	var we kafka.WriteErrors
	if errors.As(err, &we) {
		for _, e := range we {
			if e != nil && errors.Is(e, kafka.MessageSizeTooLarge) {
				return true
			}
		}
	}
	return errors.Is(err, kafka.MessageSizeTooLarge)
}
