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

// hl7Options are the HL7 v2 use case's dependencies on m's store and
// configuration, its metrics registered with reg.
func hl7Options(m *Main, parser *fhir.Parser, reg prometheus.Registerer) v2ingest.Options {
	return v2ingest.Options{
		Ingest:        &ingest.Service{Parser: parser, Store: m.Store, MaxBundleEntries: m.Config.MaxBundleEntries},
		Store:         m.Store,
		Parser:        parser,
		Mapping:       v2fhir.Options{Aliases: m.Config.HL7CodeAliases},
		ProcessingIDs: m.Config.HL7ProcessingIDs,
		Logger:        m.Logger,
		Metrics:       v2ingest.NewMetrics(reg),
	}
}

// startMLLP runs the HL7 v2 listener when CODEBRIDGE_MLLP_ADDR is set: the
// MLLP server hands each frame to the HL7 v2 use case (v2ingest), which
// answers it after the commit. Close shuts it down first among the
// workers: frames in flight are answered, and anything unanswered is
// re-sent by the sender and recognised by its MSH-10.
func (m *Main) startMLLP() error {
	if m.Config.MLLPAddr == "" {
		return nil
	}
	parser, err := fhir.NewParser()
	if err != nil {
		return err
	}
	svc := v2ingest.New(hl7Options(m, parser, m.Registry))
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
