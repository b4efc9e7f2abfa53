package main

import (
	"github.com/codebridge/codebridge/adapters/httpapi"
	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/fhir"
)

// setupIngest builds the one validating FHIR parser and the store, and
// registers the FHIR REST routes.
func (m *Main) setupIngest() error {
	parser, err := fhir.NewParser()
	if err != nil {
		return err
	}
	m.Store = postgres.NewStore(m.DB)
	m.Store.StatusTopic = m.Config.StatusTopic
	m.routes = append(m.routes, func(s *httpapi.Server) {
		httpapi.RegisterFHIR(s, m.Store, parser, httpapi.FHIROptions{MaxBundleEntries: m.Config.MaxBundleEntries})
	})
	m.registerWorkItems()
	m.registerCoding()
	return nil
}

// registerWorkItems adds the coding API's worklist routes.
func (m *Main) registerWorkItems() {
	m.routes = append(m.routes, func(s *httpapi.Server) {
		httpapi.RegisterWorkItems(s, m.Store, httpapi.WorkItemOptions{MaxLeases: m.Config.MaxLeasesPerCoder, Lease: m.Config.LeaseDuration})
	})
}
