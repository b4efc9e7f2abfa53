package kafkain

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"

	"github.com/codebridge/codebridge/mapping/ingest"
)

// Ingester is the ingest use case each message goes through;
// *ingest.Service satisfies it.
type Ingester interface {
	// RawSeeded ingests a FHIR resource or Bundle; creates without an id
	// get ids derived from seed, so a redelivered message is a no-op.
	RawSeeded(ctx context.Context, actor, seed string, raw []byte) (ingest.Result, error)
}

// Options configure a Consumer.
type Options struct {
	Brokers []string
	SASL    sasl.Mechanism // nil: no SASL
	TLS     *tls.Config    // nil: plaintext
	// Topic is the inbound topic; Group the consumer group id, shared by
	// every replica; DeadLetterTopic where unprocessable messages go.
	Topic           string
	Group           string
	DeadLetterTopic string
	// MaxMessageBytes bounds one fetch from a partition, and so the
	// largest message accepted; zero means 10 MiB.
	MaxMessageBytes int
	// ProcessTimeout bounds the ingest of one message; zero means 1 minute.
	ProcessTimeout time.Duration
	// MinBackoff and MaxBackoff bound the wait between retries of a message
	// after a receiver fault (doubling from Min up to Max); zero means
	// 200 ms and 15 s.
	MinBackoff, MaxBackoff time.Duration
	Logger                 *slog.Logger
	Metrics                *Metrics // nil records nothing
}

func (o *Options) defaults() {
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = 10 << 20
	}
	if o.ProcessTimeout <= 0 {
		o.ProcessTimeout = time.Minute
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 200 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 15 * time.Second
	}
	o.MaxBackoff = max(o.MaxBackoff, o.MinBackoff)
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Consumer reads the inbound topic as a member of the consumer group.
type Consumer struct {
	ing       Ingester
	o         Options
	log       *slog.Logger
	m         *Metrics
	actor     string
	transport *kafka.Transport // the dead-letter writer's
	dlq       *kafka.Writer

	mu     sync.Mutex
	reader *kafka.Reader
	closed bool
}

// New returns a Consumer of o.Topic that ingests through ing. It connects
// nothing until Run.
func New(ing Ingester, o Options) (*Consumer, error) {
	if len(o.Brokers) == 0 || o.Topic == "" || o.Group == "" || o.DeadLetterTopic == "" {
		return nil, errors.New("kafkain: brokers, topic, group and dead-letter topic are required")
	}
	o.defaults()
	c := &Consumer{ing: ing, o: o, log: o.Logger, m: o.Metrics, actor: "kafka:" + o.Topic}
	c.transport = c.newTransport()
	c.dlq = &kafka.Writer{
		Addr:         kafka.TCP(o.Brokers...),
		Topic:        o.DeadLetterTopic,
		Balancer:     &kafka.Hash{},
		RequiredAcks: kafka.RequireAll,
		MaxAttempts:  3,
		BatchSize:    1,
		BatchBytes:   int64(o.MaxMessageBytes) + 1<<20, // the value plus headers; the broker has the last word
		BatchTimeout: time.Millisecond,
		WriteTimeout: 10 * time.Second,
		ReadTimeout:  10 * time.Second,
		Transport:    c.transport,
	}
	return c, nil
}

func (c *Consumer) newTransport() *kafka.Transport {
	return &kafka.Transport{SASL: c.o.SASL, TLS: c.o.TLS, DialTimeout: 5 * time.Second, IdleTimeout: time.Minute,
		MetadataTTL: 30 * time.Second, ClientID: "codebridge-inbound"}
}

// Run consumes until ctx ends. It first waits for the inbound and
// dead-letter topics to exist (Ready fails meanwhile), then joins the group.
// Each assigned partition has a lane of its own: its messages are handled
// one at a time, in order, while the partitions proceed concurrently.
func (c *Consumer) Run(ctx context.Context) {
	r := c.start(ctx)
	if r == nil {
		return
	}
	c.log.Info("kafka inbound consuming", "topic", c.o.Topic, "group", c.o.Group, "dead_letter_topic", c.o.DeadLetterTopic)
	lanes := map[int]chan kafka.Message{}
	var wg sync.WaitGroup
	defer func() {
		for _, l := range lanes {
			close(l)
		}
		wg.Wait()
	}()
	b := c.backoff()
	for {
		msg, err := r.FetchMessage(ctx)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, io.EOF) {
				return
			}
			wait := b.next()
			c.log.Warn("kafka inbound fetch failed; retrying", "topic", c.o.Topic, "error", err.Error(), "retry_in", wait.String())
			if !sleep(ctx, wait) {
				return
			}
			continue
		}
		b.reset()
		l, ok := lanes[msg.Partition]
		if !ok {
			l = make(chan kafka.Message, laneDepth)
			lanes[msg.Partition] = l
			wg.Add(1)
			go func() { defer wg.Done(); c.lane(ctx, r, l) }()
		}
		select {
		case l <- msg:
		case <-ctx.Done():
			return
		}
	}
}

// laneDepth is how many fetched messages of one partition may wait for
// their lane.
const laneDepth = 16

// lane handles one partition's messages in order. Once ctx ends it only
// drains: the messages left are not committed, so they are delivered again.
func (c *Consumer) lane(ctx context.Context, r *kafka.Reader, msgs <-chan kafka.Message) {
	for msg := range msgs {
		if ctx.Err() == nil {
			c.handle(ctx, r, msg)
		}
	}
}

// start waits for the topics, then opens the group reader; nil when ctx
// ended or the consumer was closed first.
func (c *Consumer) start(ctx context.Context) *kafka.Reader {
	for b := c.backoff(); ; {
		err := c.Ready(ctx)
		if err == nil {
			break
		}
		wait := b.next()
		c.log.Warn("kafka inbound waiting for its topics", "topic", c.o.Topic, "error", err.Error(), "retry_in", wait.String())
		if !sleep(ctx, wait) {
			return nil
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || ctx.Err() != nil {
		return nil
	}
	c.reader = kafka.NewReader(kafka.ReaderConfig{
		Brokers:           c.o.Brokers,
		GroupID:           c.o.Group,
		Topic:             c.o.Topic,
		Dialer:            &kafka.Dialer{Timeout: 5 * time.Second, SASLMechanism: c.o.SASL, TLS: c.o.TLS, ClientID: "codebridge-inbound"},
		MinBytes:          1,
		MaxBytes:          c.o.MaxMessageBytes,
		MaxWait:           time.Second,
		StartOffset:       kafka.FirstOffset, // a new group starts at the beginning
		CommitInterval:    0,                 // synchronous commits, one per handled message
		HeartbeatInterval: 3 * time.Second,
		SessionTimeout:    10 * time.Second,
		RebalanceTimeout:  30 * time.Second,
		IsolationLevel:    kafka.ReadCommitted,
		ErrorLogger: kafka.LoggerFunc(func(format string, args ...any) {
			c.log.Warn("kafka inbound reader", "topic", c.o.Topic, "detail", fmt.Sprintf(format, args...))
		}),
	})
	return c.reader
}

// Ready is the readiness check: the inbound and dead-letter topics exist.
func (c *Consumer) Ready(ctx context.Context) error {
	// A transport of its own: a shared one answers metadata from a cache
	// that would miss a topic created since.
	tr := c.newTransport()
	defer tr.CloseIdleConnections()
	client := &kafka.Client{Addr: kafka.TCP(c.o.Brokers...), Transport: tr, Timeout: 10 * time.Second}
	md, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{c.o.Topic, c.o.DeadLetterTopic}})
	if err != nil {
		return fmt.Errorf("kafkain: metadata: %w", err)
	}
	found := map[string]bool{}
	for _, t := range md.Topics {
		found[t.Name] = t.Error == nil && len(t.Partitions) > 0
	}
	var missing []string
	for _, t := range []string{c.o.Topic, c.o.DeadLetterTopic} {
		if !found[t] {
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("kafkain: topic(s) %v do not exist: create them (CODEBRIDGE_INBOUND_TOPIC and its dead-letter topic)", missing)
	}
	return nil
}

// Close leaves the group and closes the reader and the dead-letter writer.
// Cancel Run's context and wait for Run to return first, so the message in
// hand is finished and committed.
func (c *Consumer) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	var errs []error
	if c.reader != nil {
		errs = append(errs, c.reader.Close())
	}
	errs = append(errs, c.dlq.Close())
	c.transport.CloseIdleConnections()
	return errors.Join(errs...)
}

// backoff doubles a wait from MinBackoff up to MaxBackoff.
type backoff struct {
	min, max, cur time.Duration
}

func (c *Consumer) backoff() *backoff {
	return &backoff{min: c.o.MinBackoff, max: c.o.MaxBackoff}
}

func (b *backoff) next() time.Duration {
	if b.cur == 0 {
		b.cur = b.min
	} else {
		b.cur = min(2*b.cur, b.max)
	}
	return b.cur
}

func (b *backoff) reset() { b.cur = 0 }

// sleep waits d or until ctx ends; false when ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
