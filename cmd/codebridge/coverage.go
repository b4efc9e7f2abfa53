package main

import (
	"context"
	"time"

	"github.com/codebridge/codebridge/adapters/httpapi"
	"github.com/codebridge/codebridge/adapters/postgres"
	"github.com/codebridge/codebridge/mapping/codes"
)

// Code-set coverage (README "Code-set coverage"): whether a loaded release
// of each code set and NCCI table covers today, the facility's civil date
// (CODEBRIDGE_FACILITY_TIMEZONE, UTC when unset). It is shown as a WARN
// line per system at start, on /readyz and /metrics (adapters/httpapi) and
// on the admin's dashboard (adapters/webui), each read afresh from the
// stored release list, which `codebridge codes load` may change while the
// service runs.

// codeSetCoverage answers today's coverage from the stored releases.
func (m *Main) codeSetCoverage() httpapi.CodeSetCoverage {
	store := postgres.NewCodeStore(m.DB)
	loc := m.Config.FacilityTimezone
	return func(ctx context.Context) (time.Time, []codes.SystemCoverage, error) {
		rels, err := store.ListReleases(ctx)
		if err != nil {
			return time.Time{}, nil, err
		}
		list := make([]codes.Release, len(rels))
		for i, r := range rels {
			list[i] = r.Release
		}
		today := facilityToday(time.Now(), loc)
		return today, codes.Coverage(list, today), nil
	}
}

// facilityToday is now's civil date in the facility's time zone (nil is
// UTC), as a UTC midnight like every date of service.
func facilityToday(now time.Time, loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	return codes.Day(now.In(loc))
}

// warnCodeSetCoverage logs one WARN line per code set no loaded release
// covers today, naming the release to load and the command; it never fails
// the start.
func (m *Main) warnCodeSetCoverage(ctx context.Context) {
	today, cov, err := m.codeSetCoverage()(ctx)
	if err != nil {
		m.Logger.Warn("code-set coverage unavailable", "error", err.Error())
		return
	}
	for _, c := range cov {
		if !c.Covered {
			m.Logger.Warn("no release of a code set covers today", "system", string(c.System), "date", today.Format(time.DateOnly),
				"missing", c.Missing.String(), "hint", c.Hint, "impact", c.Impact)
		}
	}
}
