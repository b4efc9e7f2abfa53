package edits

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/codebridge/codebridge/mapping/codes"
)

var testdata = filepath.Join("..", "..", "testdata", "codesets")

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

var (
	catOnce sync.Once
	cat     *codes.Catalog
	catErr  error
)

// testCatalog holds the bundled FY2026 sets and HCPCS 2025-Oct, a FY2025
// ICD-10-CM extract, a CPT code list (CY2025), the MUE and PTP extracts
// and the Tabular List fixture.
// The NCCI extracts get a test window of 2025-10-01..2026-06-30 so that one
// date of service (2025-11-14) exercises every set; their CMS quarter is
// not what is under test here.
func testCatalog(tb testing.TB) *codes.Catalog {
	tb.Helper()
	catOnce.Do(func() { cat, catErr = buildCatalog() })
	if catErr != nil {
		tb.Fatal(catErr)
	}
	return cat
}

func buildCatalog() (*codes.Catalog, error) {
	c := codes.NewCatalog()
	if err := codes.LoadBundled(c); err != nil {
		return nil, err
	}
	fy25, _ := codes.NewRelease(codes.ICD10CM, "FY2025")
	cpt, _ := codes.NewRelease(codes.CPT, "2025")
	window := func(s codes.System) codes.Release {
		return codes.Release{System: s, Version: "test", From: date(2025, 10, 1), To: date(2026, 6, 30)}
	}
	files := []struct {
		rel  codes.Release
		name string
	}{
		{fy25, "icd10cm_order_2025_extract.txt"},
		{cpt, "cpt_codes_only_extract.txt"},
		{window(codes.MUETable), "mue_practitioner_cms_layout_extract.csv"},
		{window(codes.PTPTable), "ptp_practitioner_cms_layout_extract.txt"},
		// The hand-made Tabular List fixture, over every date the tests
		// use, so that each chart is checked against its instructions
		// (TestTabularEdits; a catalog without it: TestTabularCoverage).
		{codes.Release{System: codes.ICD10CMTabular, Version: "FY2027", From: date(2024, 10, 1), To: date(2027, 9, 30)},
			"icd10cm_tabular_fixture.xml"},
	}
	for _, f := range files {
		r, err := os.Open(filepath.Join(testdata, f.name))
		if err != nil {
			return nil, err
		}
		_, err = c.Load(f.rel, r)
		r.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
	}
	return c, nil
}

// noCPT hides the CPT release, as on an install without a CPT licence.
type noCPT struct{ codes.Lookup }

func (n noCPT) Code(ctx context.Context, s codes.System, code string, dos time.Time) (codes.Entry, error) {
	if s == codes.CPT {
		return codes.Entry{}, codes.ErrNoRelease
	}
	return n.Lookup.Code(ctx, s, code, dos)
}

// failing fails every lookup, as a broken database would.
type failing struct{ codes.Lookup }

func (failing) Code(context.Context, codes.System, string, time.Time) (codes.Entry, error) {
	return codes.Entry{}, fmt.Errorf("connection refused")
}

// noHistory answers no release history, as a store that cannot tell when
// a code was added.
type noHistory struct{ codes.Lookup }

func (noHistory) History(context.Context, codes.System, string) (codes.History, error) {
	return codes.History{}, nil
}
