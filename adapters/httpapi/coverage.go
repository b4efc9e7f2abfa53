package httpapi

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/codebridge/codebridge/mapping/codes"
)

// CodeSetCoverage answers the code-set coverage of today: the facility's
// civil date and codes.Coverage of the loaded releases on it. It is read
// afresh on every /readyz and every /metrics scrape, so a release loaded by
// another process (`codebridge codes load` while serving) shows at once.
type CodeSetCoverage func(ctx context.Context) (today time.Time, cov []codes.SystemCoverage, err error)

// systemCoverage is one system's coverage in the /readyz body.
type systemCoverage struct {
	System  string `json:"system"`
	Covered bool   `json:"covered"`
	// Release, ValidTo, CoveredThrough and DaysLeft when covered.
	Release        string `json:"release,omitempty"`
	ValidTo        string `json:"validTo,omitempty"`
	CoveredThrough string `json:"coveredThrough,omitempty"`
	DaysLeft       int    `json:"daysLeft"`
	// Missing (with its dates), Hint and Impact when not covered.
	Missing     string `json:"missing,omitempty"`
	MissingFrom string `json:"missingFrom,omitempty"`
	MissingTo   string `json:"missingTo,omitempty"`
	Hint        string `json:"hint,omitempty"`
	Impact      string `json:"impact,omitempty"`
}

// codeSetsDetail is the "codeSets" part of the /readyz body.
type codeSetsDetail struct {
	Date    string           `json:"date"`
	Systems []systemCoverage `json:"systems"`
}

// codeSetDetails reads the coverage for /readyz: the details and one
// warning per system no release covers today. A coverage that cannot be
// read (the database is down, which the database check reports) is left
// out; it never fails readiness.
func (s *Server) codeSetDetails(ctx context.Context) (*codeSetsDetail, []string) {
	if s.codeSets == nil {
		return nil, nil
	}
	today, cov, err := s.codeSets(ctx)
	if err != nil {
		s.log.WarnContext(ctx, "code-set coverage unavailable", "error", err.Error())
		return nil, nil
	}
	d := &codeSetsDetail{Date: codes.Day(today).Format(time.DateOnly), Systems: []systemCoverage{}}
	var warnings []string
	for _, c := range cov {
		sc := systemCoverage{System: string(c.System), Covered: c.Covered, DaysLeft: c.DaysLeft}
		if c.Covered {
			sc.Release, sc.ValidTo = c.Release.Version, c.Release.To.Format(time.DateOnly)
			sc.CoveredThrough = c.Through.Format(time.DateOnly)
		} else {
			sc.Missing, sc.Hint, sc.Impact = c.Missing.Version, c.Hint, c.Impact
			sc.MissingFrom, sc.MissingTo = c.Missing.From.Format(time.DateOnly), c.Missing.To.Format(time.DateOnly)
			warnings = append(warnings, c.Warning(today))
		}
		d.Systems = append(d.Systems, sc)
	}
	return d, warnings
}

// coverageCollector exports the code-set coverage as two gauges per
// system, read at each scrape:
//
//   - codebridge_codeset_coverage_days{system}: days of coverage left,
//     today included, through the end of the loaded releases that follow
//     one another without a gap from today (codes.SystemCoverage.DaysLeft);
//     0 when no release covers today;
//   - codebridge_codeset_covered{system}: 1 when a release covers today,
//     0 when none does.
//
// When the coverage cannot be read (the database is down) both are absent
// from that scrape.
type coverageCollector struct {
	cov           CodeSetCoverage
	days, covered *prometheus.Desc
}

func newCoverageCollector(cov CodeSetCoverage) *coverageCollector {
	return &coverageCollector{cov: cov,
		days: prometheus.NewDesc("codebridge_codeset_coverage_days",
			"Days of code-set coverage left, today (the facility's date) included: through the end of the loaded releases of the system "+
				"that follow one another from today without a gap; 0 when no release covers today.", []string{"system"}, nil),
		covered: prometheus.NewDesc("codebridge_codeset_covered",
			"1 when a loaded release of the system covers today (the facility's date), 0 when none does.", []string{"system"}, nil),
	}
}

func (c *coverageCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.days
	ch <- c.covered
}

func (c *coverageCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_, cov, err := c.cov(ctx)
	if err != nil {
		return
	}
	for _, s := range cov {
		covered := 0.0
		if s.Covered {
			covered = 1
		}
		ch <- prometheus.MustNewConstMetric(c.days, prometheus.GaugeValue, float64(s.DaysLeft), string(s.System))
		ch <- prometheus.MustNewConstMetric(c.covered, prometheus.GaugeValue, covered, string(s.System))
	}
}
