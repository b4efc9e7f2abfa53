package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/codebridge/codebridge/adapters/mllp"
	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping/ingest"
	"github.com/codebridge/codebridge/mapping/v2fhir"
	"github.com/codebridge/codebridge/mapping/v2ingest"
)

// hl7Options are the HL7 v2 use case's dependencies on m's store, its one
// ingest service and configuration, its metrics registered with reg. The
// parser is m's one parser (tests may pass their own).
func hl7Options(m *Main, parser *fhir.Parser, reg prometheus.Registerer) v2ingest.Options {
	svc := m.ingestSvc
	if svc == nil || svc.Parser != parser {
		svc = &ingest.Service{Parser: parser, Store: m.Store, MaxBundleEntries: m.Config.MaxBundleEntries}
	}
	return v2ingest.Options{
		Ingest:        svc,
		Store:         m.Store,
		Parser:        parser,
		Mapping:       v2fhir.Options{Aliases: m.Config.HL7CodeAliases},
		ProcessingIDs: m.Config.HL7ProcessingIDs,
		Logger:        m.Logger,
		Metrics:       v2ingest.NewMetrics(reg),
	}
}

// setupMLLP builds the HL7 v2 listener when CODEBRIDGE_MLLP_ADDR is set
// (its TLS certificate loaded, its metrics registered) without listening:
// the MLLP server hands each frame to the HL7 v2 use case (v2ingest), which
// answers it after the commit.
func (m *Main) setupMLLP() error {
	if m.Config.MLLPAddr == "" {
		return nil
	}
	svc := v2ingest.New(hl7Options(m, m.parser, m.Registry))
	srv := &mllp.Server{
		Handler:      mllp.HandlerFunc(svc.Handle),
		Oversized:    svc.Oversized(m.Config.MLLPMaxFrameBytes),
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
	m.mllpSrv = srv
	return nil
}

// listenMLLP opens the HL7 v2 listener built by setupMLLP, if any. Close
// shuts it down first among the workers: frames in flight are answered,
// and anything unanswered is re-sent by the sender and recognised by its
// MSH-10.
func (m *Main) listenMLLP() error {
	if m.mllpSrv == nil {
		return nil
	}
	srv := m.mllpSrv
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
