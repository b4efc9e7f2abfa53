package main

import (
	"github.com/codebridge/codebridge/adapters/httpapi"
	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/config"
	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping"
	"github.com/codebridge/codebridge/mapping/ingest"
	"github.com/codebridge/codebridge/mapping/workitem"
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
	o := storeOptions(m.Config)
	o.Wake = wake
	m.Store = postgres.NewStore(m.DB, o)
	return wake
}

// storeOptions are the store's settings from the configuration: where its
// events and Claims go, the Claim policy and the edit checker. `serve`,
// `dev` and `import` build their stores alike, so an imported visit's
// work item announces itself on the status topic like a pushed one.
func storeOptions(c config.Config) postgres.StoreOptions {
	return postgres.StoreOptions{
		StatusTopic: c.StatusTopic,
		ClaimsTopic: c.ClaimsTopic,
		ClaimOptions: mapping.ClaimOptions{SelfPay: c.SelfPay, TelehealthPOS: c.TelehealthPOS,
			InstitutionalClasses: c.InstitutionalClass, BillingProvider: c.BillingProvider,
			Facility: c.FacilityTimezone},
		DeliverClaims: c.ClaimSinkURL != "",
		Check:         editChecker(c.InstitutionalClass, c.FacilityTimezone, c.MedicarePayers),
		AutoCode:      workitem.StraightThroughPolicy{AllowWarnings: c.AutoCodeAllowWarnings},
	}
}

// setupIngest builds the one validating FHIR parser and the one inbound
// use case (ingest.Service) every way in shares — REST, the Kafka inbound
// topic, HL7 v2, the dev samples — and registers the FHIR REST, worklist,
// coding, claims and reports routes on the store.
func (m *Main) setupIngest() error {
	parser, err := fhir.NewParser()
	if err != nil {
		return err
	}
	m.parser = parser
	m.ingestSvc = &ingest.Service{Parser: parser, Store: m.Store, MaxBundleEntries: m.Config.MaxBundleEntries}
	m.routes = append(m.routes, func(s *httpapi.Server) {
		httpapi.RegisterFHIR(s, m.Store, m.ingestSvc)
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
