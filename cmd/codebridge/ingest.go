package main

import (
	"github.com/codebridge/codebridge/adapters/httpapi"
	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping"
)

// buildStore builds the store whole, with every setting it will ever use,
// before anything that uses it starts: a restart with a backlog issues its
// first Claims with the configured policy. It returns the channel the store
// wakes the straight-through coder on (nil when that is off).
func (m *Main) buildStore() chan struct{} {
	var wake chan struct{}
	if m.Config.AutoCode {
		wake = make(chan struct{}, 1)
	}
	m.Store = postgres.NewStore(m.DB, postgres.StoreOptions{
		StatusTopic: m.Config.StatusTopic,
		ClaimsTopic: m.Config.ClaimsTopic,
		ClaimOptions: mapping.ClaimOptions{SelfPay: m.Config.SelfPay, TelehealthPOS: m.Config.TelehealthPOS,
			InstitutionalClasses: m.Config.InstitutionalClass, BillingProvider: m.Config.BillingProvider},
		DeliverClaims: m.Config.ClaimSinkURL != "",
		Wake:          wake,
		Check:         editChecker(m.Config.InstitutionalClass, m.Config.MedicarePayers),
	})
	return wake
}

// setupIngest builds the one validating FHIR parser and registers the FHIR
// REST, worklist, coding, claims and reports routes on the store.
func (m *Main) setupIngest() error {
	parser, err := fhir.NewParser()
	if err != nil {
		return err
	}
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
