package v2fhir

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping/hl7v2"
)

// Options tune the mapping.
type Options struct {
	// Aliases maps upper-case HL7 coding-system names (DG1-3.3, PR1-3.3,
	// FT1-25.3, FT1-19.3: "I10", "ICD10CM", "C4"...) to FHIR system URIs;
	// DefaultAliases() is the built-in table.
	Aliases map[string]string
	// Location reads timestamps sent without a UTC offset; nil means UTC.
	Location *time.Location
}

// Prior is the stored Encounter a message updates, as the wiring found it
// under EncounterID; Map takes nil when there is none yet. It is what the
// out-of-order rules (see the package doc) need: status, period and the
// diagnosis list.
type Prior struct {
	Status     string
	Start, End time.Time // zero when absent
	Diagnoses  []fhir.Diagnosis
}

// PriorOf returns the Prior of a stored Encounter's extract.
func PriorOf(e fhir.Encounter) *Prior {
	return &Prior{Status: e.Status, Start: e.Period.Start, End: e.Period.End, Diagnoses: e.Diagnoses}
}

// Result is one message as FHIR.
type Result struct {
	// Bundle is a transaction Bundle of PUT entries, FHIR R4 JSON, ready
	// for the same path as POST /fhir.
	Bundle []byte
	// EncounterID and PatientID are the deterministic ids of the visit and
	// the patient.
	EncounterID, PatientID string
	// Event is MSH-9.1^MSH-9.2, e.g. "ADT^A01".
	Event string
	// Entries counts the Bundle's entries.
	Entries int
}

// supported lists the trigger events taken, by message type.
var supported = map[string][]string{
	"ADT": {"A01", "A03", "A04", "A08", "A11", "A13"},
	"DFT": {"P03"},
}

// Map turns one parsed HL7 v2 message into a transaction Bundle of PUT
// entries with deterministic ids. prior is the stored Encounter of the
// visit (nil when none). The Bundle depends only on the message content,
// opts and prior: never on the clock or on MSH-10, so a re-sent message
// gives the same bytes. Errors are *Error: Unsupported for a message type,
// event or version codebridge does not take, Invalid (with every problem
// found) for bad content.
//
// Map's Bundle writes unconditionally and replaces the Patient with what
// the PID holds; MapStored, which the MLLP wiring uses, merges the PID into
// the stored Patient and makes the writes conditional on what was read.
func Map(msg *hl7v2.Message, opts Options, prior *Prior) (*Result, error) {
	return mapMessage(msg, opts, prior, nil)
}

// mapMessage is Map, and MapStored when st is not nil.
func mapMessage(msg *hl7v2.Message, opts Options, prior *Prior, st *Stored) (*Result, error) {
	ev, err := Event(msg)
	if err != nil {
		return nil, err
	}
	m := newMapper(msg, opts)
	m.stored = st
	if err := m.keys(); err != nil {
		return nil, err
	}
	m.build(ev, prior)
	if err := m.errs.err(); err != nil {
		return nil, err
	}
	if m.fault != nil {
		return nil, m.fault
	}
	if st != nil {
		m.precondition("Encounter", m.encID, st.EncounterVersion)
		m.precondition("Patient", m.patID, st.PatientVersion)
	}
	raw, err := json.Marshal(bundle{ResourceType: "Bundle", Type: "transaction", Entry: m.entries})
	if err != nil {
		return nil, err
	}
	return &Result{Bundle: raw, EncounterID: m.encID, PatientID: m.patID, Event: ev, Entries: len(m.entries)}, nil
}

// EncounterID returns the id Map gives the message's Encounter (from the
// sending facility MSH-4 and the visit number PV1-19), for the wiring to
// look up the prior Encounter. Its errors are Map's.
func EncounterID(msg *hl7v2.Message, opts Options) (string, error) {
	enc, _, err := IDs(msg, opts)
	return enc, err
}

// IDs returns the ids Map gives the message's Encounter and Patient (from
// MSH-4 with PV1-19 and PID-3), for the wiring to read what is stored
// under them. Its errors are Map's.
func IDs(msg *hl7v2.Message, opts Options) (encounterID, patientID string, err error) {
	if _, err := Event(msg); err != nil {
		return "", "", err
	}
	m := newMapper(msg, opts)
	if err := m.keys(); err != nil {
		return "", "", err
	}
	return m.encID, m.patID, nil
}

// Event checks that Map takes msg (type, trigger event and version) and
// names its event, e.g. "ADT^A08". The trigger is MSH-9.2, or EVN-1 when a
// version 2.3 sender left MSH-9.2 empty.
func Event(msg *hl7v2.Message) (string, error) {
	if msg == nil {
		return "", &Error{Kind: Invalid, Details: []hl7v2.ErrDetail{{Segment: "MSH", Seq: 1, Code: codeSequence, Text: "message has no MSH segment"}}}
	}
	h := msg.Header()
	if !versionSupported(h.Version) {
		return "", unsupported(12, 1, codeVersion, "HL7 version is not supported (2.3 to 2.8)")
	}
	typ, trig := strings.ToUpper(value(h.Type)), strings.ToUpper(value(h.Trigger))
	if trig == "" {
		if evn := msg.First("EVN"); evn != nil {
			trig = strings.ToUpper(value(evn.Value(1, 1)))
		}
	}
	events, ok := supported[typ]
	if !ok {
		return "", unsupported(9, 1, codeMessageType, "message type is not supported (ADT, DFT)")
	}
	for _, e := range events {
		if e == trig {
			return typ + "^" + trig, nil
		}
	}
	return "", unsupported(9, 2, codeEvent, "trigger event is not supported (ADT A01 A03 A04 A08 A11 A13, DFT P03)")
}

// versionSupported reports whether MSH-12 is 2.3 through 2.8 (any
// sub-release: 2.3.1, 2.5.1, 2.8.2).
func versionSupported(v string) bool {
	parts := strings.Split(strings.TrimSpace(v), ".")
	if len(parts) < 2 || parts[0] != "2" {
		return false
	}
	minor, err := strconv.Atoi(parts[1])
	return err == nil && minor >= 3 && minor <= 8
}
