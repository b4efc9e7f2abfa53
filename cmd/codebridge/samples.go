package main

import (
	"context"
	"embed"
	"fmt"
	"path"
)

//go:embed samples/*.json
var sampleFiles embed.FS

// loadSamples ingests the embedded sample Bundles through the same path as
// POST /fhir (mapping/ingest), so `codebridge dev` starts with charts to work. Re-running it
// is a no-op for unchanged resources, except that POSTed entries without
// If-None-Exist are created again; the samples use conditional creates where
// that matters (the Patient) and are otherwise loaded only into an empty
// database.
func (m *Main) loadSamples(ctx context.Context) (int, error) {
	var n int
	if err := m.DB.QueryRowContext(ctx, `SELECT count(*) FROM work_items`).Scan(&n); err != nil || n > 0 {
		return 0, err
	}
	svc := m.ingestSvc
	entries, err := sampleFiles.ReadDir("samples")
	if err != nil {
		return 0, err
	}
	loaded := 0
	for _, e := range entries {
		raw, err := sampleFiles.ReadFile(path.Join("samples", e.Name()))
		if err != nil {
			return loaded, err
		}
		if _, err := svc.Raw(ctx, "dev-samples", raw); err != nil {
			return loaded, fmt.Errorf("sample %s: %w", e.Name(), err)
		}
		loaded++
	}
	return loaded, nil
}
