package codes

import (
	"fmt"
	"slices"
	"time"
)

// Which release covers a date, and how to load it.
//
// Codes are reported by the date of service, and a code set's release
// governs only its own dates: the ICD-10-CM/PCS annual update (and the
// POA-exempt list) takes effect each October 1 with no grace period
// (Medicare Claims Processing Manual, Pub. 100-04, ch. 23 §10.2; 45 CFR
// 162.1002), HCPCS Level II and the NCCI MUE and PTP tables change every
// calendar quarter, CPT every January 1. So when no loaded release covers a
// date, last year's (or last quarter's) is never applied in its place
// (lookups answer ErrNoRelease); ReleaseFor names the one that would cover
// it and LoadHint the command that loads it.

// ReleaseFor returns the release of system whose window covers dos: the
// federal fiscal year for ICD-10-CM, ICD-10-PCS and the POA-exempt list
// ("FY2027", 2026-10-01..2027-09-30), the calendar quarter for HCPCS
// ("2027-Jan", 2027-01-01..2027-03-31, the label of the CMS quarterly file)
// and for the MUE and PTP tables ("2027Q1"), the calendar year for CPT
// ("2027"). HCPCS modifiers are loaded with the HCPCS file, so for
// HCPCSModifier it answers the HCPCS release.
func ReleaseFor(system System, dos time.Time) (Release, error) {
	d := Day(dos)
	var version string
	switch system {
	case ICD10CM, ICD10PCS, POAExemptList, ICD10CMTabular:
		fy := d.Year()
		if d.Month() >= time.October {
			fy++
		}
		version = fmt.Sprintf("FY%d", fy)
	case HCPCS, HCPCSModifier:
		system = HCPCS
		first := time.Month((int(d.Month())-1)/3*3 + 1)
		version = fmt.Sprintf("%d-%s", d.Year(), first.String()[:3])
	case MUETable, PTPTable:
		version = fmt.Sprintf("%dQ%d", d.Year(), (int(d.Month())-1)/3+1)
	case CPT:
		version = fmt.Sprintf("%d", d.Year())
	case MCE: // vNN for FY(NN-17); from April its update vNN.1
		fy := d.Year()
		if d.Month() >= time.October {
			fy++
		}
		version = fmt.Sprintf("v%d", fy-2000+17)
		if d.Month() >= time.April && d.Month() < time.October {
			version += ".1"
		}
	default:
		return Release{}, fmt.Errorf("codes: unknown system %q", system)
	}
	return NewRelease(system, version)
}

// LoadHint returns the command that loads release r: `codebridge codes
// fetch` for the public CMS/CDC files it downloads (ICD-10-CM, ICD-10-PCS,
// the POA-exempt list and the Tabular List XML of a fiscal year; a HCPCS
// quarter), and `codebridge
// codes load` with the file for CPT (AMA-licensed, never shipped or
// downloaded by codebridge) and the NCCI MUE and PTP tables.
func LoadHint(r Release) string {
	switch r.System {
	case ICD10CM, ICD10PCS, POAExemptList, ICD10CMTabular:
		return fmt.Sprintf("codebridge codes fetch --fy %d", r.To.Year())
	case HCPCS, HCPCSModifier:
		return fmt.Sprintf("codebridge codes fetch --hcpcs %s", r.From.Format("2006-01"))
	case CPT:
		return fmt.Sprintf("codebridge codes load --system cpt --version %d FILE", r.From.Year())
	case MUETable, PTPTable:
		return fmt.Sprintf("codebridge codes load --system %s --version %dQ%d FILE", r.System, r.From.Year(), (int(r.From.Month())-1)/3+1)
	}
	return fmt.Sprintf("codebridge codes load --system %s --version %s FILE", r.System, r.Version)
}

// MissingRelease says, for an edit or a search note, which release of
// system a date of service needs and how to load it: "it needs icd10pcs
// FY2027 (2026-10-01..2027-09-30): load it with `codebridge codes fetch
// --fy 2027`".
func MissingRelease(system System, dos time.Time) string {
	r, err := ReleaseFor(system, dos)
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("it needs %s: load it with `%s`", r, LoadHint(r))
}

// SiteSystems are the code sets and edit tables a site needs, in the order
// a coverage report lists them. HCPCS modifiers share the HCPCS release.
var SiteSystems = []System{ICD10CM, ICD10PCS, POAExemptList, HCPCS, CPT, MUETable, PTPTable}

// Impact says what is not checked on a date no release of system covers,
// and what that does to straight-through coding
// (workitem.StraightThroughPolicy, rule 5).
func Impact(system System) string {
	switch system {
	case ICD10CM:
		return "ICD-10-CM diagnosis codes are not checked (NO_RELEASE_FOR_DOS); no chart of that date is coded straight through"
	case ICD10PCS:
		return "ICD-10-PCS procedure codes of inpatient charts are not checked (NO_RELEASE_FOR_DOS)"
	case POAExemptList:
		return "POA indicators of inpatient charts are not checked against the POA-exempt list (NO_RELEASE_FOR_DOS)"
	case HCPCS, HCPCSModifier:
		return "HCPCS Level II codes and modifiers are not checked (NO_RELEASE_FOR_DOS); no chart using them is coded straight through"
	case CPT:
		return "CPT codes are checked by format only (CPT_UNVERIFIED); straight-through coding is not affected"
	case MUETable:
		return "units are not checked against an MUE (NO_RELEASE_FOR_DOS:mue); a chart billing a code above 1 unit on a date is left to a coder unless the allowlist names NO_RELEASE_FOR_DOS:mue"
	case PTPTable:
		return "code pairs are not checked against NCCI PTP edits (NO_RELEASE_FOR_DOS:ptp); a chart with two or more lines is left to a coder unless the allowlist names NO_RELEASE_FOR_DOS:ptp"
	}
	return ""
}

// SystemCoverage is one system's coverage on a day (see Coverage).
type SystemCoverage struct {
	System System
	// Covered is true when a loaded release covers the day.
	Covered bool
	// Release is the release covering the day, when Covered.
	Release Release
	// Through is the last day of the unbroken run of loaded releases from
	// the day on (the covering release's end, or a later one's when the
	// next release is loaded already); zero when not Covered.
	Through time.Time
	// DaysLeft counts the days from the day through Through, both
	// included: 1 on the last covered day, 0 when not Covered.
	DaysLeft int
	// Missing is the release that would cover the day, when not Covered;
	// Hint the command that loads it and Impact what goes unchecked
	// meanwhile.
	Missing Release
	Hint    string
	Impact  string
}

// Warning is the operator's message for a system not Covered, "" when it
// is: "no icd10pcs release covers 2026-12-08: load icd10pcs FY2027
// (2026-10-01..2027-09-30) with `codebridge codes fetch --fy 2027`; until
// then ...".
func (c SystemCoverage) Warning(today time.Time) string {
	if c.Covered {
		return ""
	}
	return fmt.Sprintf("no %s release covers %s: load %s with `%s`; until then %s",
		c.System, Day(today).Format(time.DateOnly), c.Missing, c.Hint, c.Impact)
}

// Coverage reports, for each of SiteSystems, whether the loaded releases
// cover today (the facility's civil date) and for how many days, and when
// none does, the release to load and how. Releases of HCPCS modifiers count
// as HCPCS; releases of other systems are ignored.
func Coverage(releases []Release, today time.Time) []SystemCoverage {
	d := Day(today)
	out := make([]SystemCoverage, 0, len(SiteSystems))
	for _, sys := range SiteSystems {
		var rs []Release
		for _, r := range releases {
			if r.System == sys || sys == HCPCS && r.System == HCPCSModifier {
				rs = append(rs, r)
			}
		}
		c := SystemCoverage{System: sys}
		for _, r := range rs {
			if r.Covers(d) && (!c.Covered || r.From.After(c.Release.From)) {
				c.Covered, c.Release = true, r
			}
		}
		if !c.Covered {
			c.Missing, _ = ReleaseFor(sys, d)
			c.Hint, c.Impact = LoadHint(c.Missing), Impact(sys)
			out = append(out, c)
			continue
		}
		c.Through = coveredThrough(rs, c.Release.To)
		c.DaysLeft = int(c.Through.Sub(d).Hours()/24) + 1
		out = append(out, c)
	}
	return out
}

// coveredThrough extends end over the releases that follow it without a
// gap (one starting on or before the day after end).
func coveredThrough(rs []Release, end time.Time) time.Time {
	rs = slices.Clone(rs)
	slices.SortFunc(rs, func(a, b Release) int { return a.From.Compare(b.From) })
	for _, r := range rs {
		if !r.From.After(end.AddDate(0, 0, 1)) && r.To.After(end) {
			end = r.To
		}
	}
	return end
}

// SearchNote is what a code search says when no release of system covers
// date: searched is the newest release loaded, whose codes the search
// shows instead (never refusing to show codes), or the zero Release when
// none of system is loaded at all.
func SearchNote(system System, date time.Time, searched Release) string {
	if searched.Version == "" {
		return fmt.Sprintf("no %s release is loaded; %s", system, MissingRelease(system, date))
	}
	d := Day(date).Format(time.DateOnly)
	return fmt.Sprintf("no %s release covers %s (%s); showing the newest release loaded, %s, for reference: "+
		"its codes are not checked against %s", system, d, MissingRelease(system, date), searched, d)
}
