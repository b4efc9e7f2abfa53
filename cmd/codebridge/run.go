package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/codebridge/codebridge/adapters/httpapi"
	"github.com/codebridge/codebridge/adapters/mllp"
	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/config"
	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping/ingest"
)

// Main wires the service together: config → database (and the embedded
// Kafka broker) → every service built with all its dependencies → background
// workers → listeners (MLLP, HTTP), and closes them in reverse. Tests run it
// on 127.0.0.1:0.
type Main struct {
	Config config.Config
	Logger *slog.Logger
	Stdout io.Writer

	// Set by Start.
	Addr     string // the address HTTP listens on
	DB       *postgres.DB
	HTTP     *httpapi.Server
	Registry *prometheus.Registry
	// KafkaAddr is the embedded broker's address when it runs.
	KafkaAddr string
	// MLLPAddr is the HL7 v2 listener's address when it runs.
	MLLPAddr string
	Store    *postgres.Store
	// deferCoverageWarn leaves the code-set coverage warnings of Start to
	// the caller (`codebridge dev` loads the bundled sets after Start).
	deferCoverageWarn bool

	parser      *fhir.Parser            // the one validating FHIR parser (setupIngest)
	ingestSvc   *ingest.Service         // the one inbound use case every way in shares (setupIngest)
	mllpSrv     *mllp.Server            // the HL7 v2 listener, built by setupMLLP when configured
	readyChecks []httpapi.Check         // readiness checks beyond the database
	routes      []func(*httpapi.Server) // route registrations applied by setupHTTP
	pending     []func()                // workers recorded while building, started by start
	workers     sync.WaitGroup
	workCtx     context.Context // cancelled by Close to stop workers
	serveDone   chan error
	closers     []func(context.Context) error // run in reverse by Close
}

// Run starts the service and blocks until ctx is cancelled (SIGTERM), then
// drains and closes everything.
func (m *Main) Run(ctx context.Context) error {
	if err := m.Start(ctx); err != nil {
		cerr := m.Close(context.Background())
		return errors.Join(err, cerr)
	}
	return m.wait(ctx)
}

// wait blocks until ctx is cancelled or the HTTP server fails, then closes.
func (m *Main) wait(ctx context.Context) error {
	var serveErr error
	select {
	case <-ctx.Done():
		m.Logger.Info("shutting down")
	case serveErr = <-m.serveDone:
		m.Logger.Error("http server stopped", "error", fmt.Sprint(serveErr))
	}
	sctx, cancel := context.WithTimeout(context.Background(), m.Config.ShutdownTimeout)
	defer cancel()
	return errors.Join(serveErr, m.Close(sctx))
}

// Start opens the database (applying migrations) and the embedded Kafka
// broker when it runs, builds every service with all its dependencies, then
// starts the background workers and, last, the listeners. It returns once
// the service is listening.
func (m *Main) Start(ctx context.Context) error {
	if m.Logger == nil {
		m.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	m.Logger.Info("starting codebridge", "version", buildVersion(), "config", m.Config.String())
	if m.Config.InsecureNoAuth && len(m.Config.Tokens) == 0 {
		m.Logger.Warn("AUTHENTICATION IS OFF (--insecure-no-auth): every caller acts as admin")
	}
	m.Registry = prometheus.NewRegistry()
	m.Registry.MustRegister(collectors.NewBuildInfoCollector(), collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "codebridge_build_info", Help: "Always 1; labelled with the codebridge version.",
			ConstLabels: prometheus.Labels{"version": buildVersion()}}, func() float64 { return 1 }))
	if err := m.openDB(ctx); err != nil {
		return err
	}
	if err := m.openKafka(); err != nil {
		return err
	}
	wctx, cancel := context.WithCancel(context.Background())
	m.workCtx = wctx
	m.closers = append(m.closers, func(context.Context) error { cancel(); m.workers.Wait(); return nil })
	if err := m.build(ctx); err != nil {
		return err
	}
	if err := m.start(); err != nil {
		return err
	}
	if !m.deferCoverageWarn {
		m.warnCodeSetCoverage(ctx)
	}
	return nil
}

// build constructs every service with all its dependencies and starts
// nothing: the store first and whole (its settings never change after), then
// what uses it. Workers are only recorded (goWorker), routes collected for
// the HTTP server.
func (m *Main) build(ctx context.Context) error {
	wake := m.buildStore()
	if err := m.setupIngest(); err != nil {
		return err
	}
	m.setupAutoCoder(wake)
	m.setupRecheck()
	if err := m.setupKafka(); err != nil {
		return err
	}
	if err := m.setupInbound(ctx); err != nil {
		return err
	}
	m.setupClaimSink()
	if err := m.setupMLLP(); err != nil {
		return err
	}
	m.registerCodes()
	if err := m.registerUI(); err != nil {
		return err
	}
	return m.setupHTTP()
}

// start runs the recorded workers, then opens the listeners: the HL7 v2
// listener, and HTTP last.
func (m *Main) start() error {
	for _, run := range m.pending {
		run()
	}
	m.pending = nil
	if err := m.listenMLLP(); err != nil {
		return err
	}
	return m.listenHTTP()
}

func (m *Main) openDB(ctx context.Context) error {
	db, err := postgres.Open(ctx, m.Config.DatabaseURL, postgres.Options{MaxOpenConns: m.Config.DBMaxOpenConns, StatementCache: m.Config.StatementCacheSize()})
	if err != nil {
		return err
	}
	m.DB = db
	m.closers = append(m.closers, func(context.Context) error { return db.Close() })
	n, err := postgres.Migrate(ctx, db.DB)
	if err != nil {
		return err
	}
	m.Logger.Info("database ready", "migrations_applied", n)
	m.Registry.MustRegister(collectors.NewDBStatsCollector(db.DB, "codebridge"))
	return nil
}

// setupHTTP builds the HTTP server with every route registered.
func (m *Main) setupHTTP() error {
	auth, err := m.setupAuth()
	if err != nil {
		return err
	}
	m.HTTP = httpapi.New(httpapi.Options{
		Logger:       m.Logger,
		Registry:     m.Registry,
		Auth:         auth,
		BodyLimit:    m.Config.BodyLimitBytes,
		Ready:        append([]httpapi.Check{{Name: "database", Fn: m.DB.PingContext}}, m.readyChecks...),
		MaxInFlight:  m.Config.MaxInFlight(),
		QueueTimeout: m.Config.HTTPQueueTimeout,
		CodeSets:     m.codeSetCoverage(),
	})
	for _, register := range m.routes {
		register(m.HTTP)
	}
	return nil
}

// listenHTTP opens the HTTP listener and serves on it until Close.
func (m *Main) listenHTTP() error {
	l, err := net.Listen("tcp", m.Config.HTTPAddr)
	if err != nil {
		return fmt.Errorf("CODEBRIDGE_HTTP_ADDR %s: %w", m.Config.HTTPAddr, err)
	}
	m.Addr = l.Addr().String()
	m.serveDone = make(chan error, 1)
	go func() { m.serveDone <- m.HTTP.Serve(l) }()
	m.closers = append(m.closers, m.HTTP.Shutdown)
	m.Logger.Info("http listening", "addr", m.Addr)
	return nil
}

// goWorker has fn run in the background from the end of Start until Close;
// fn must return when ctx is done. Nothing runs before start: every service
// is built first.
func (m *Main) goWorker(name string, fn func(context.Context)) {
	m.pending = append(m.pending, func() { m.launch(name, fn) })
}

// launch runs fn in the background now, as a worker Close waits for.
func (m *Main) launch(name string, fn func(context.Context)) {
	m.workers.Add(1)
	go func() {
		defer m.workers.Done()
		fn(m.workCtx)
		m.Logger.Debug("worker stopped", "worker", name)
	}()
}

// Close stops everything Start started, in reverse order: HTTP drains its
// in-flight requests first, then workers stop, then the database closes.
func (m *Main) Close(ctx context.Context) error {
	var errs []error
	for i := len(m.closers) - 1; i >= 0; i-- {
		if err := m.closers[i](ctx); err != nil {
			errs = append(errs, err)
		}
	}
	started := m.closers != nil
	m.closers = nil
	if len(errs) == 0 && started {
		m.Logger.Info("stopped cleanly")
	}
	return errors.Join(errs...)
}
