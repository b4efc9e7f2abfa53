package mapping

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping/codes"
	"github.com/codebridge/codebridge/mapping/edits"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// ClaimRefs lists the Practitioner and Organization references an
// Encounter's Claim needs (participants and service provider), so the store
// can load exactly those.
func ClaimRefs(enc Source) ([]string, error) {
	var e fhir.Encounter
	if err := json.Unmarshal(enc.Summary, &e); err != nil {
		return nil, fmt.Errorf("mapping.ClaimRefs: %w", err)
	}
	var refs []string
	for _, p := range e.Participants {
		if refID(p.Individual, "Practitioner") != "" {
			refs = append(refs, p.Individual)
		}
	}
	if refID(e.ServiceProvider, "Organization") != "" {
		refs = append(refs, e.ServiceProvider)
	}
	return refs, nil
}

// ClaimInputFrom assembles a ClaimInput from stored sources (the Encounter,
// its Patient, the patient's Coverages, and the referenced Practitioners and
// Organizations), the chart, and the code assignment. Identity, Created,
// Options and Prior are left for the caller.
func ClaimInputFrom(sources []Source, chart *workitem.Chart, a workitem.Assignment) (ClaimInput, error) {
	in := ClaimInput{Practitioners: map[string]fhir.Practitioner{}, Organizations: map[string]fhir.Organization{}}
	for _, s := range sources {
		if err := in.add(s); err != nil {
			return in, fmt.Errorf("mapping.ClaimInputFrom: %s/%s: %w", s.Type, s.ID, err)
		}
	}
	if in.EncounterID == "" {
		return in, ErrNoEncounter
	}
	sort.SliceStable(in.Coverages, func(i, j int) bool { return coverageOrder(in.Coverages[i]) < coverageOrder(in.Coverages[j]) })
	ec, err := EditChart(chart, a, nil, nil) // only the codes are taken from it
	if err != nil {
		return in, err
	}
	in.Diagnoses, in.Lines, in.Procedures = ec.Diagnoses, ec.Lines, ec.Procedures
	// The Claim dates the service from the chart, as the edits did.
	in.Encounter.StartAsSent = asSent(chart.Encounter.StartAsSent, chart.Encounter.Start)
	in.Encounter.EndAsSent = asSent(chart.Encounter.EndAsSent, chart.Encounter.End)
	return in, nil
}

func coverageOrder(c CoverageRef) int {
	if c.Coverage.Order <= 0 {
		return 1 << 30
	}
	return c.Coverage.Order
}

// add decodes one source into the input.
func (in *ClaimInput) add(s Source) error {
	if s.Deleted {
		return nil
	}
	switch s.Type {
	case "Encounter":
		in.EncounterID = s.ID
		return json.Unmarshal(s.Summary, &in.Encounter)
	case "Patient":
		var p fhir.Patient
		in.Patient, in.PatientID = &p, s.ID
		return json.Unmarshal(s.Summary, &p)
	case "Coverage":
		var c fhir.Coverage
		if err := json.Unmarshal(s.Summary, &c); err != nil {
			return err
		}
		if c.Status == "active" {
			in.Coverages = append(in.Coverages, CoverageRef{ID: s.ID, Coverage: c})
		}
	case "Practitioner":
		var p fhir.Practitioner
		if err := json.Unmarshal(s.Summary, &p); err != nil {
			return err
		}
		in.Practitioners["Practitioner/"+s.ID] = p
	case "Organization":
		var o fhir.Organization
		if err := json.Unmarshal(s.Summary, &o); err != nil {
			return err
		}
		in.Organizations["Organization/"+s.ID] = o
	}
	return nil
}

// LookupPOAExempt sets in.POAExempt: the diagnoses of an inpatient
// institutional claim that are on the POA-exempt list in force for the
// stay, found by the same rule as the POA edit (edits.POAExemptCodes) on
// the same dates: the encounter's local dates in the facility time zone
// (serviceDates, as EditChart takes them through EncounterDates), so the
// list is the one in force on the local discharge date (Chart.codeSetDate;
// ICD-10-CM Official Guidelines, Appendix I), not on the UTC date of the
// instant sent. Call it once Options are set, since they decide the claim
// type and the facility zone. It does no I/O of its own; lk does.
func LookupPOAExempt(ctx context.Context, lk codes.Lookup, in *ClaimInput) error {
	class := in.Encounter.Class.Code
	start, end := in.serviceDates()
	ec := edits.Chart{Class: class, ClaimType: ClaimTypeFor(class, in.Options.InstitutionalClasses),
		Start: start, End: end, Diagnoses: in.Diagnoses}
	exempt, err := edits.POAExemptCodes(ctx, lk, ec)
	if err != nil {
		return fmt.Errorf("mapping.LookupPOAExempt: %w", err)
	}
	in.POAExempt = exempt
	return nil
}
