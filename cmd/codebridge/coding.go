package main

import (
	"context"

	"github.com/codebridge/codebridge/adapters/httpapi"
	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/mapping"
	"github.com/codebridge/codebridge/mapping/codes"
	"github.com/codebridge/codebridge/mapping/edits"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// editChecker runs the claim edits against the code sets in lk, with the
// claim type the configured institutional classes give.
func editChecker(lk codes.Lookup, institutional []string) workitem.Checker {
	return func(ctx context.Context, chart *workitem.Chart, a workitem.Assignment) ([]workitem.Edit, error) {
		ec, err := mapping.EditChart(chart, a, institutional)
		if err != nil {
			return nil, err
		}
		es, err := edits.Check(ctx, lk, ec)
		if err != nil {
			return nil, err
		}
		return mapping.DomainEdits(es), nil
	}
}

// registerCoding adds code assignment, submit and physician queries, with
// edits checked against the code sets stored in PostgreSQL.
func (m *Main) registerCoding() {
	check := editChecker(postgres.NewCodeStore(m.DB), m.Config.InstitutionalClass)
	m.startAutoCoder(check)
	m.registerReports()
	m.Store.ClaimsTopic = m.Config.ClaimsTopic
	m.Store.ClaimOptions = mapping.ClaimOptions{SelfPay: m.Config.SelfPay, TelehealthPOS: m.Config.TelehealthPOS,
		InstitutionalClasses: m.Config.InstitutionalClass, BillingProvider: m.Config.BillingProvider}
	m.routes = append(m.routes, func(s *httpapi.Server) {
		httpapi.RegisterClaims(s, m.Store)
		httpapi.RegisterCoding(s, m.Store, m.Store, httpapi.CodingOptions{Check: check, Lease: m.Config.LeaseDuration, QASampleRate: m.Config.QASampleRate})
	})
}
