package mapping

import (
	"fmt"
	"strings"
	"time"

	"github.com/codebridge/codebridge/mapping/edits"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// ClaimTypeFor returns the claim type an encounter class is billed on:
// institutional (837I) for the given classes (empty means
// workitem.DefaultInstitutionalClasses, as for the claim builder, so the edits, the
// Claim and the workbench agree), professional (837P) otherwise.
func ClaimTypeFor(class string, institutional []string) edits.ClaimType {
	if isInstitutional(class, institutional) {
		return edits.Institutional
	}
	return edits.Professional
}

// EditChart turns a chart and a code assignment into what the edit engine
// checks. Malformed dates in the assignment are Invalid errors naming the
// element. institutional are the classes billed on institutional claims
// (empty: workitem.DefaultInstitutionalClasses); facility is the facility time zone
// that dates times sent in UTC (nil: UTC). The chart's Start and End are
// the encounter's local calendar dates (EncounterDates), the ones the
// Claim shows.
func EditChart(c *workitem.Chart, a workitem.Assignment, institutional []string, facility *time.Location) (edits.Chart, error) {
	ec := edits.Chart{Class: c.Encounter.Class, ClaimType: ClaimTypeFor(c.Encounter.Class, institutional)}
	ec.Start, ec.End = EncounterDates(c.Encounter, facility)
	if p := c.PatientSummary; p != nil {
		ec.Sex = edits.Sex(p.Gender)
		if t, err := time.Parse("2006-01-02", p.BirthDate); err == nil {
			ec.BirthDate = t
		}
	}
	for _, d := range a.Diagnoses {
		ec.Diagnoses = append(ec.Diagnoses, edits.Diagnosis{Code: strings.TrimSpace(d.Code), POA: strings.ToUpper(strings.TrimSpace(d.POA))})
	}
	for i, l := range a.Lines {
		sd, err := optionalDate(l.ServiceDate, fmt.Sprintf("lines[%d].serviceDate", i))
		if err != nil {
			return ec, err
		}
		ec.Lines = append(ec.Lines, edits.Line{Code: strings.TrimSpace(l.Code), Modifiers: l.Modifiers, Units: l.Units,
			Diagnoses: l.Diagnoses, ServiceDate: sd, PlaceOfService: l.PlaceOfService})
	}
	for i, p := range a.Procedures {
		d, err := optionalDate(p.Date, fmt.Sprintf("procedures[%d].date", i))
		if err != nil {
			return ec, err
		}
		ec.Procedures = append(ec.Procedures, edits.Procedure{Code: strings.TrimSpace(p.Code), Date: d})
	}
	return ec, nil
}

func optionalDate(s, path string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return t, workitem.Errorf(workitem.Invalid, "%s: %q is not a date (YYYY-MM-DD)", path, s).
			WithIssues(workitem.Issue{Severity: "error", Code: "value", Diagnostics: "not a date", Expression: []string{path}})
	}
	return t, nil
}

// DomainEdits converts the engine's findings to the work item's edits.
func DomainEdits(es []edits.Edit) []workitem.Edit {
	out := make([]workitem.Edit, len(es))
	for i, e := range es {
		out[i] = workitem.Edit{Code: e.Code, Severity: string(e.Severity), Message: e.Message, Target: e.Target, Covers: string(e.Covers),
			Rule: e.Rule, RuleText: e.RuleText}
	}
	return out
}
