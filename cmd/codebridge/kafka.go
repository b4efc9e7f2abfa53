package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/codebridge/codebridge/adapters/httpapi"
	"github.com/codebridge/codebridge/adapters/kafkapub"
	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/config"
)

// relaysPerProcess is how many relay loops each process runs: a second one
// publishes while the first waits on the database.
const relaysPerProcess = 2

// openKafka starts the embedded broker when no brokers are configured: like
// the database, it is a dependency the services are built on. It closes
// after everything that uses it.
func (m *Main) openKafka() error {
	if !m.Config.EmbeddedKafka() {
		return nil
	}
	// The broker takes what the writer may send: message.max.bytes
	// follows CODEBRIDGE_KAFKA_MAX_MESSAGE_BYTES.
	b, err := kafkapub.StartEmbedded(m.Config.EmbeddedKafkaAddr, kafkapub.EmbeddedOptions{MaxMessageBytes: m.Config.KafkaMaxMessage})
	if err != nil {
		return err
	}
	m.KafkaAddr = b.Addr()
	m.closers = append(m.closers, func(context.Context) error { b.Close(); return nil })
	m.Logger.Info("embedded kafka listening", "addr", b.Addr())
	return nil
}

// brokerOptions are kafkaOptions with the embedded broker's address when it
// runs.
func (m *Main) brokerOptions() (kafkapub.Options, error) {
	opts, err := kafkaOptions(m.Config)
	if err == nil && m.Config.EmbeddedKafka() {
		opts.Brokers = []string{m.KafkaAddr}
	}
	return opts, err
}

// setupKafka builds the Kafka side: the writer, the outbox relay and its
// metrics, the broker readiness check and the dead-letter admin routes; the
// relays and topic creation run as workers. A broker that is down at start
// does not stop the service: events wait in the outbox and topic creation is
// retried in the background.
//
// On Close the relay finishes the publish in flight, then the writer closes
// (and after it the embedded broker, see openKafka); unpublished records
// stay pending for the next start.
func (m *Main) setupKafka() error {
	opts, err := m.brokerOptions()
	if err != nil {
		return err
	}
	w, err := kafkapub.NewWriter(opts)
	if err != nil {
		return err
	}
	store := postgres.NewOutboxStore(m.DB)
	relay := kafkapub.NewRelay(store, w, kafkapub.RelayOptions{
		// The writer's limit: records over it are dead-lettered at once,
		// records under it are tried.
		MaxMessageBytes: opts.MaxMessageBytes,
		Logger:          m.Logger.With("worker", "outbox-relay"),
		Metrics:         kafkapub.NewMetrics(m.Registry, store.Stats),
	})
	m.readyChecks = append(m.readyChecks, httpapi.Check{Name: "kafka",
		Fn: func(ctx context.Context) error { return kafkapub.Ping(ctx, opts) }})
	m.routes = append(m.routes, func(s *httpapi.Server) { httpapi.RegisterOutboxAdmin(s, store) })

	rctx, cancel := context.WithCancel(m.workCtx)
	var wg sync.WaitGroup
	m.goKafkaWorker(&wg, "kafka-topics", func() { m.ensureTopics(rctx, opts) })
	for range relaysPerProcess { // safe: claims never share a key (adapters/postgres/outbox.go)
		m.goKafkaWorker(&wg, "outbox-relay", func() { relay.Run(rctx) })
	}
	m.closers = append(m.closers, func(ctx context.Context) error {
		cancel()
		// The relay settles its in-flight batch first, within the shutdown
		// timeout; what it has not published stays pending for the next start.
		m.settle(ctx, &wg, "outbox relay did not settle before the shutdown timeout; unsent events stay pending")
		return w.Close()
	})
	return nil
}

// goKafkaWorker has fn run as a Main worker (see goWorker) that the Kafka
// closer can also wait for, so the writer outlives the relay.
func (m *Main) goKafkaWorker(wg *sync.WaitGroup, name string, fn func()) {
	m.pending = append(m.pending, func() {
		wg.Add(1)
		m.launch(name, func(context.Context) {
			defer wg.Done()
			fn()
		})
	})
}

// ensureTopics creates the status and claims topics, retrying until it
// succeeds or ctx ends.
func (m *Main) ensureTopics(ctx context.Context, opts kafkapub.Options) {
	for wait := time.Second; ; wait = min(2*wait, 30*time.Second) {
		tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := kafkapub.EnsureTopics(tctx, opts, m.Config.TopicPartitions, m.Config.TopicReplication,
			m.Config.StatusTopic, m.Config.ClaimsTopic)
		cancel()
		if err == nil {
			m.Logger.Info("kafka topics ready", "status_topic", m.Config.StatusTopic, "claims_topic", m.Config.ClaimsTopic)
			return
		}
		if ctx.Err() != nil || errors.Is(err, context.Canceled) {
			return
		}
		m.Logger.Warn("kafka topics not ready; retrying", "error", err.Error(), "retry_in", wait.String())
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// kafkaOptions turns the configuration into broker connection options:
// SASL/PLAIN and TLS (with an optional CA file) for real clusters.
func kafkaOptions(c config.Config) (kafkapub.Options, error) {
	o := kafkapub.Options{Brokers: c.Brokers(), MaxMessageBytes: c.KafkaMaxMessage,
		SASLMechanism: c.KafkaSASLMechanism, SASLUser: c.KafkaSASLUser, SASLPassword: c.KafkaSASLPassword}
	if !c.KafkaTLS {
		return o, nil
	}
	o.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
	if c.KafkaTLSCAFile != "" {
		pem, err := os.ReadFile(c.KafkaTLSCAFile)
		if err != nil {
			return o, fmt.Errorf("CODEBRIDGE_KAFKA_TLS_CA_FILE: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return o, fmt.Errorf("CODEBRIDGE_KAFKA_TLS_CA_FILE: no PEM certificates in %s", c.KafkaTLSCAFile)
		}
		o.TLS.RootCAs = pool
	}
	return o, nil
}

// settle waits for wg, or until ctx (the shutdown timeout) ends, when it
// logs warning: the workers' unfinished work is kept for the next start.
func (m *Main) settle(ctx context.Context, wg *sync.WaitGroup, warning string) {
	settled := make(chan struct{})
	go func() { wg.Wait(); close(settled) }()
	select {
	case <-settled:
	case <-ctx.Done():
		m.Logger.Warn(warning)
	}
}
