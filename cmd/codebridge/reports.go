package main

import "github.com/codebridge/codebridge/adapters/httpapi"

// registerReports adds the JSON reports and the read of physician-query
// Communications.
func (m *Main) registerReports() {
	m.routes = append(m.routes, func(s *httpapi.Server) {
		httpapi.RegisterReports(s, m.Store, m.Store)
	})
}
