package codes

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// System names a code set or edit table that codebridge loads.
type System string

// The systems codebridge knows. HCPCSModifier entries are loaded from the
// HCPCS Level II file together with the HCPCS codes and share its release.
const (
	ICD10CM       System = "icd10cm"
	ICD10PCS      System = "icd10pcs"
	HCPCS         System = "hcpcs"
	HCPCSModifier System = "hcpcsmod"
	CPT           System = "cpt"
	MUETable      System = "mue"
	PTPTable      System = "ptp"
	POAExemptList System = "poaexempt"
	// ICD10CMTabular is the ICD-10-CM Tabular List XML: the instructional
	// notes (Excludes1, code first, 7th characters, ...) of the fiscal year.
	ICD10CMTabular System = "icd10cm-tabular"
	// MCE is the CMS Medicare Code Editor's diagnosis lists (mce.go).
	MCE System = "mce"
)

// ParseSystem returns the System named s, or an error if s is not one of the
// systems above.
func ParseSystem(s string) (System, error) {
	switch sys := System(strings.ToLower(strings.TrimSpace(s))); sys {
	case ICD10CM, ICD10PCS, HCPCS, HCPCSModifier, CPT, MUETable, PTPTable, POAExemptList, ICD10CMTabular, MCE:
		return sys, nil
	}
	return "", fmt.Errorf("codes: unknown system %q", s)
}

// Release is one loaded version of a system together with the dates of
// service it governs. From and To are civil dates (UTC midnight) and both
// are inclusive.
type Release struct {
	System  System
	Version string
	From    time.Time
	To      time.Time
}

// Covers reports whether the date of service dos (compared as a civil date)
// falls inside the release window.
func (r Release) Covers(dos time.Time) bool {
	d := Day(dos)
	return !d.Before(r.From) && !d.After(r.To)
}

// String returns "system version (from..to)".
func (r Release) String() string {
	return fmt.Sprintf("%s %s (%s..%s)", r.System, r.Version,
		r.From.Format(time.DateOnly), r.To.Format(time.DateOnly))
}

// Day truncates t to its civil date at UTC midnight, keeping t's own
// calendar day (a 23:30 service in New York stays on that day).
func Day(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// NewRelease builds a Release whose window is derived from version with
// Window. Fiscal-year labels of ICD-10-CM, ICD-10-PCS, the POA-exempt
// list and the Tabular List are normalised to "FY2026" ("2026", "fy26" and " FY2026 " are the
// same release). Quarterly and CPT labels keep their spelling (trimmed);
// two spellings of one quarter ("2025-Oct", "2025Q4") are told apart by
// the loaders, which refuse a second release over the same dates.
func NewRelease(system System, version string) (Release, error) {
	from, to, err := Window(system, version)
	if err != nil {
		return Release{}, err
	}
	switch system {
	case ICD10CM, ICD10PCS, POAExemptList, ICD10CMTabular:
		version = fmt.Sprintf("FY%d", to.Year())
	case MCE:
		_, _, version, _ = mceWindow(version) // "43.1" is v43.1
	default:
		version = strings.TrimSpace(version)
	}
	return Release{System: system, Version: version, From: from, To: to}, nil
}

// Window derives the validity window of a release from its version label.
//
// ICD-10-CM, ICD-10-PCS, the POA-exempt list and the ICD-10-CM Tabular
// List follow the federal fiscal year: "FY2026" or "2026" is 2025-10-01..2026-09-30. HCPCS Level II, MUE
// and PTP tables are quarterly: "2026Q2", "2026-Q2", "2025-Oct" or "2025-10"
// (the first month of a quarter) name that calendar quarter. CPT is
// annual: "2026" is the calendar year 2026; a quarter label is accepted too.
// The Medicare Code Editor (MCE) follows the MS-DRG versions: vNN is the
// fiscal year NN-17 (v43 and "43" are FY2026, 2025-10-01..2026-09-30;
// v44 is FY2027) and vNN.1 its April update (v43.1: 2026-04-01..2026-09-30).
func Window(system System, version string) (from, to time.Time, err error) {
	v := strings.ToUpper(strings.TrimSpace(version))
	switch system {
	case ICD10CM, ICD10PCS, POAExemptList, ICD10CMTabular:
		y, err := parseYear(strings.TrimPrefix(v, "FY"))
		if err != nil {
			return from, to, fmt.Errorf("codes: %s version %q: want FY2026", system, version)
		}
		return date(y-1, 10, 1), date(y, 9, 30), nil
	case CPT:
		if y, err := parseYear(v); err == nil {
			return date(y, 1, 1), date(y, 12, 31), nil
		}
		fallthrough
	case HCPCS, HCPCSModifier, MUETable, PTPTable:
		y, q, err := parseQuarter(v)
		if err != nil {
			return from, to, fmt.Errorf("codes: %s version %q: want 2026Q2 or 2025-Oct", system, version)
		}
		from = date(y, time.Month(3*q-2), 1)
		return from, from.AddDate(0, 3, -1), nil
	case MCE:
		from, to, _, err := mceWindow(v)
		if err != nil {
			return from, to, fmt.Errorf("codes: mce version %q: want 43.1 or v44 (MCE vNN is FY(NN-17), vNN.1 its April update)", version)
		}
		return from, to, nil
	}
	return from, to, fmt.Errorf("codes: unknown system %q", system)
}

func date(y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func parseYear(s string) (int, error) {
	if len(s) == 2 {
		s = "20" + s
	}
	y, err := strconv.Atoi(s)
	if err != nil || len(s) != 4 || y < 1990 || y > 2200 {
		return 0, fmt.Errorf("bad year %q", s)
	}
	return y, nil
}

var quarterMonths = map[string]int{"JAN": 1, "01": 1, "APR": 2, "04": 2, "JUL": 3, "07": 3, "OCT": 4, "10": 4}

// parseQuarter accepts 2026Q2, 2026-Q2, 2025-Oct, 2025-10, Oct2025 and
// 2025_OCT.
func parseQuarter(v string) (year, quarter int, err error) {
	v = strings.NewReplacer("-", "", "_", "", " ", "").Replace(v)
	if len(v) == 6 && v[4] == 'Q' && v[5] >= '1' && v[5] <= '4' {
		y, err := parseYear(v[:4])
		return y, int(v[5] - '0'), err
	}
	if len(v) == 7 && v[0] >= 'A' && v[0] <= 'Z' { // OCT2025
		v = v[3:] + v[:3]
	}
	if len(v) < 6 {
		return 0, 0, fmt.Errorf("bad quarter %q", v)
	}
	q, ok := quarterMonths[v[4:]]
	if !ok {
		return 0, 0, fmt.Errorf("bad quarter %q", v)
	}
	y, err := parseYear(v[:4])
	return y, q, err
}
