package main

import (
	"context"
	"embed"
	"fmt"
	"path"
	"regexp"
	"time"
)

//go:embed samples/*.json
var sampleFiles embed.FS

// sampleDaysAgo is how many days before today the sample visits take
// place: a new user's first chart is from last week, so it is coded
// against the code sets in force today (issue #18), not a past year's.
const sampleDaysAgo = 3

// loadSamples ingests the embedded sample Bundles through the same path as
// POST /fhir (mapping/ingest), so `codebridge dev` starts with charts to
// work. Each Bundle is moved in time first (redateSample) so that its visit
// took place sampleDaysAgo days before today. Re-running it
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
		raw, err = redateSample(raw, time.Now(), sampleDaysAgo)
		if err != nil {
			return loaded, fmt.Errorf("sample %s: %w", e.Name(), err)
		}
		if _, err := svc.Raw(ctx, "dev-samples", raw); err != nil {
			return loaded, fmt.Errorf("sample %s: %w", e.Name(), err)
		}
		loaded++
	}
	return loaded, nil
}

// sampleDateTime matches a FHIR dateTime/instant with a time part
// ("2026-03-10T14:00:00Z"): the visit's times. Dates without a time (a
// birthDate) are left alone.
var sampleDateTime = regexp.MustCompile(`"(\d{4}-\d{2}-\d{2})(T\d{2}:\d{2}:\d{2}[^"]*)"`)

// redateSample shifts every dateTime of a sample Bundle by the same whole
// number of days, so that its earliest one falls daysAgo days before now's
// date (UTC). Times of day and the order of events are kept.
func redateSample(raw []byte, now time.Time, daysAgo int) ([]byte, error) {
	var first time.Time
	for _, m := range sampleDateTime.FindAllSubmatch(raw, -1) {
		d, err := time.Parse(time.DateOnly, string(m[1]))
		if err != nil {
			return nil, fmt.Errorf("redate: %q: %w", m[1], err)
		}
		if first.IsZero() || d.Before(first) {
			first = d
		}
	}
	if first.IsZero() {
		return raw, nil
	}
	target := time.Date(now.UTC().Year(), now.UTC().Month(), now.UTC().Day()-daysAgo, 0, 0, 0, 0, time.UTC)
	shift := int(target.Sub(first).Hours() / 24)
	return sampleDateTime.ReplaceAllFunc(raw, func(b []byte) []byte {
		m := sampleDateTime.FindSubmatch(b)
		d, _ := time.Parse(time.DateOnly, string(m[1])) // parsed above
		return fmt.Appendf(nil, "%q", d.AddDate(0, 0, shift).Format(time.DateOnly)+string(m[2]))
	}), nil
}
