package v2fhir

import (
	"encoding/json"
	"strconv"

	"github.com/codebridge/codebridge/mapping/hl7v2"
)

// Stored is what the store holds for a message's visit and patient, read
// by the wiring (under IDs) just before mapping. MapStored maps against it
// and makes the Bundle's writes of the Encounter and the Patient
// conditional on it, so a concurrent change between the read and the
// write fails the transaction (Precondition) instead of being overwritten;
// the wiring then reads again and maps again.
type Stored struct {
	// Encounter is the stored Encounter for the out-of-order rules; nil
	// when the visit is new.
	Encounter *Prior
	// EncounterVersion is the version the Encounter was read at: the
	// Encounter entry carries request.ifMatch W/"n". 0 means there is no
	// current Encounter (new, or withdrawn by a FHIR DELETE): the entry
	// carries request.ifNoneMatch "*", create only.
	EncounterVersion int
	// Patient is the stored Patient's JSON, nil when there is none: the
	// PID is merged into it (MergePatient) rather than replacing it.
	Patient []byte
	// PatientVersion is the version the Patient was read at, 0 when none;
	// the Patient entry's condition, as for the Encounter.
	PatientVersion int
}

// MapStored is Map against what is stored: the Encounter's status rules
// use st.Encounter, the PID is merged into st.Patient, and the Encounter
// and Patient entries are conditional on the versions read (see Stored).
// A stored Patient that is not a JSON object is an error that is not an
// *Error: a fault of the receiver, not of the message.
func MapStored(msg *hl7v2.Message, opts Options, st Stored) (*Result, error) {
	return mapMessage(msg, opts, st.Encounter, &st)
}

// patientResource is the Patient entry's resource: the PID's Patient, or
// under MapStored with a stored Patient, the merge of the two.
func (m *mapper) patientResource() any {
	p, sent := m.patient()
	if m.stored == nil || m.stored.Patient == nil {
		return p
	}
	fresh, err := json.Marshal(p)
	if err == nil {
		var merged []byte
		if merged, err = MergePatient(m.stored.Patient, fresh, sent); err == nil {
			return json.RawMessage(merged)
		}
	}
	m.fault = err
	return p
}

// precondition makes the PUT of Type/id conditional: ifMatch on version, or
// ifNoneMatch "*" (create only) when version is 0.
func (m *mapper) precondition(typ, id string, version int) {
	for i := range m.entries {
		r := &m.entries[i].Request
		if r.Method != "PUT" || r.URL != typ+"/"+id {
			continue
		}
		if version > 0 {
			r.IfMatch = `W/"` + strconv.Itoa(version) + `"`
		} else {
			r.IfNoneMatch = "*"
		}
	}
}
