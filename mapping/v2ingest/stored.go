package v2ingest

import (
	"context"

	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping/v2fhir"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// stored reads what the message's writes are conditional on: the visit's
// Encounter (for the out-of-order rules) and the Patient (to merge the PID
// into), each with the version read.
func (s *Service) stored(ctx context.Context, encID, patID string) (v2fhir.Stored, error) {
	var st v2fhir.Stored
	var err error
	if st.Encounter, st.EncounterVersion, err = s.prior(ctx, encID); err != nil {
		return st, err
	}
	pat, err := s.store.ReadResource(ctx, "Patient", patID, 0)
	switch {
	case workitem.KindOf(err) == workitem.NotFound:
		return st, nil // new, or withdrawn: created anew from the PID
	case err != nil:
		return st, err
	}
	st.Patient, st.PatientVersion = pat.Raw, pat.Version
	return st, nil
}

// prior returns the stored Encounter's state for the out-of-order rules,
// and its version: nil and 0 when the visit is new; entered-in-error and 0
// when it was withdrawn (a FHIR DELETE), so a later message does not bring
// it back (and re-creates it only if nobody else did meanwhile).
func (s *Service) prior(ctx context.Context, encID string) (*v2fhir.Prior, int, error) {
	stored, err := s.store.ReadResource(ctx, "Encounter", encID, 0)
	if workitem.KindOf(err) == workitem.NotFound {
		if gone, err := s.store.Withdrawn(ctx, "Encounter", encID); err != nil || gone {
			return &v2fhir.Prior{Status: "entered-in-error"}, 0, err
		}
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	if stored.Deleted {
		return &v2fhir.Prior{Status: "entered-in-error"}, 0, nil
	}
	res, err := s.parser.Parse(stored.Raw)
	if err != nil {
		return nil, 0, err
	}
	enc, err := fhir.EncounterOf(res)
	if err != nil {
		return nil, 0, err
	}
	return v2fhir.PriorOf(enc), stored.Version, nil
}
