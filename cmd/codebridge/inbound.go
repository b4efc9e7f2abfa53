package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"

	"github.com/codebridge/codebridge/adapters/httpapi"
	"github.com/codebridge/codebridge/adapters/kafkain"
	"github.com/codebridge/codebridge/adapters/kafkapub"
	"github.com/codebridge/codebridge/config"
)

// setupInbound builds the Kafka inbound consumer, run as a worker, when
// CODEBRIDGE_INBOUND_TOPIC is set: it ingests FHIR resources and Bundles
// from the topic through the same use case as POST /fhir. With the embedded
// broker it creates the inbound and dead-letter topics; with a real cluster
// they must exist, and the "kafka-inbound" readiness check fails, naming
// them, until they do (the consumer waits for them).
//
// On Close the consumer finishes and commits the message in hand, then
// leaves the group; it stops before the broker and the database close.
func (m *Main) setupInbound(ctx context.Context) error {
	if m.Config.InboundTopic == "" {
		return nil
	}
	opts, err := m.brokerOptions()
	if err != nil {
		return err
	}
	if m.Config.EmbeddedKafka() {
		if err := m.ensureInboundTopics(ctx, opts); err != nil {
			return err
		}
	}
	c, err := m.newInboundConsumer(opts)
	if err != nil {
		return err
	}
	m.readyChecks = append(m.readyChecks, httpapi.Check{Name: "kafka-inbound", Fn: c.Ready})
	rctx, cancel := context.WithCancel(m.workCtx)
	var wg sync.WaitGroup
	m.goKafkaWorker(&wg, "kafka-inbound", func() { c.Run(rctx) })
	m.closers = append(m.closers, func(ctx context.Context) error {
		cancel()
		m.settle(ctx, &wg, "kafka inbound did not settle before the shutdown timeout; its message will be delivered again")
		return c.Close()
	})
	return nil
}

// ensureInboundTopics creates the inbound and dead-letter topics on the
// embedded broker.
func (m *Main) ensureInboundTopics(ctx context.Context, opts kafkapub.Options) error {
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err := kafkapub.EnsureTopics(tctx, opts, m.Config.TopicPartitions, m.Config.TopicReplication,
		m.Config.InboundTopic, m.Config.InboundDeadLetterTopic())
	if err != nil {
		return fmt.Errorf("CODEBRIDGE_INBOUND_TOPIC %s: %w", m.Config.InboundTopic, err)
	}
	return nil
}

// newInboundConsumer builds the consumer over the one ingest service the
// HTTP API uses too.
func (m *Main) newInboundConsumer(opts kafkapub.Options) (*kafkain.Consumer, error) {
	mech, err := saslMechanism(m.Config)
	if err != nil {
		return nil, err
	}
	return kafkain.New(m.ingestSvc, kafkain.Options{
		Brokers:         opts.Brokers,
		SASL:            mech,
		TLS:             opts.TLS,
		Topic:           m.Config.InboundTopic,
		Group:           m.Config.InboundGroup,
		DeadLetterTopic: m.Config.InboundDeadLetterTopic(),
		MaxMessageBytes: int(min(m.Config.BodyLimitBytes, 1<<30)), // as large as a POST /fhir body
		Logger:          m.Logger.With("worker", "kafka-inbound"),
		Metrics:         kafkain.NewMetrics(m.Registry),
	})
}

// saslMechanism is the consumer's SASL mechanism, as the outbox writer's.
func saslMechanism(c config.Config) (sasl.Mechanism, error) {
	switch strings.ToLower(c.KafkaSASLMechanism) {
	case "":
		return nil, nil
	case "plain":
		return plain.Mechanism{Username: c.KafkaSASLUser, Password: c.KafkaSASLPassword}, nil
	}
	return nil, fmt.Errorf("CODEBRIDGE_KAFKA_SASL_MECHANISM: unsupported %q", c.KafkaSASLMechanism)
}
