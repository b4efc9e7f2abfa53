package main

import (
	"context"
	"time"

	"github.com/codebridge/codebridge/adapters/httpapi"
	"github.com/codebridge/codebridge/mapping"
	"github.com/codebridge/codebridge/mapping/codes"
	"github.com/codebridge/codebridge/mapping/edits"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// editChecker runs the claim edits against the code sets the store looks
// up (on the coding transaction), with the claim type the configured
// institutional classes give, the dates of service the facility time zone
// gives (the same zone the Claims are built with) and the payer recognised
// as Medicare when listed in medicarePayers (CODEBRIDGE_MEDICARE_PAYERS).
func editChecker(institutional []string, facility *time.Location, medicarePayers []string) workitem.Checker {
	return func(ctx context.Context, lk codes.Lookup, chart *workitem.Chart, a workitem.Assignment) ([]workitem.Edit, error) {
		ec, err := mapping.EditChart(chart, a, institutional, facility)
		if err != nil {
			return nil, err
		}
		ec.Medicare = mapping.IsMedicare(chart, medicarePayers)
		es, err := edits.Check(ctx, lk, ec)
		if err != nil {
			return nil, err
		}
		return mapping.DomainEdits(es), nil
	}
}

// registerCoding adds code assignment, submit and physician queries (the
// store checks the edits), claims and reports.
func (m *Main) registerCoding() {
	m.registerReports()
	m.routes = append(m.routes, func(s *httpapi.Server) {
		httpapi.RegisterClaims(s, m.Store)
		httpapi.RegisterCoding(s, m.Store, m.Store, httpapi.CodingOptions{Lease: m.Config.LeaseDuration, QASampleRate: m.Config.QASampleRate})
	})
}
