package v2fhir

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
)

// patientElements are the Patient elements a PID maps, in the order
// MergePatient takes them. Every other element of a stored Patient
// (contact, maritalStatus, extensions... a FHIR push may have sent them)
// is kept as it is.
var patientElements = []string{"identifier", "name", "telecom", "gender", "birthDate", "address"}

// PIDSent is what a message's PID sent beyond the Patient it maps to:
// what MergePatient needs to tell "not sent, keep" from "sent, replace or
// clear".
type PIDSent struct {
	// Nulled lists the elements (identifier, name, gender, birthDate,
	// address) the PID sends as the HL7 explicit null "" and values
	// nothing else for: the merge removes them. Telecom is never listed:
	// PID13 and PID14 say what was sent of it.
	Nulled []string
	// PID13 and PID14 report whether the PID sent PID-13 (home phones and
	// e-mail) and PID-14 (business phones), each either valued (a
	// repetition maps to a ContactPoint) or as the explicit null "". The
	// stored telecom entries of a sent field's origin (see telecomOrigin)
	// are replaced by the ones the field maps to (none for "").
	PID13, PID14 bool
}

// MergePatient returns the Patient to store when a message's PID updates
// a stored one, by the rule in the package doc: stored is the stored
// Patient's JSON (as served), fresh the Patient the message maps, sent
// what the PID sent beyond it. Name, gender, birthDate and address are
// replaced when fresh has them, removed when sent.Nulled names them, and
// kept otherwise; a replaced or removed element loses its primitive
// extension ("_birthDate") too. Identifier is merged by system (see
// mergeIdentifiers), telecom by origin (see mergeTelecom). Everything
// else in stored is kept, except meta.versionId and meta.lastUpdated (the
// store sets them) and, when the merge changed any element, the narrative
// (text), which would no longer say what the resource holds. The output
// is deterministic, and merging a message into its own merge changes
// nothing: resourceType, id and meta first, then the other elements by
// name.
func MergePatient(stored, fresh []byte, sent PIDSent) ([]byte, error) {
	s, err := object(stored)
	if err != nil {
		return nil, fmt.Errorf("v2fhir.MergePatient: stored Patient: %w", err)
	}
	f, err := object(fresh)
	if err != nil {
		return nil, fmt.Errorf("v2fhir.MergePatient: mapped Patient: %w", err)
	}
	changed := false
	for _, el := range patientElements {
		nv, set, err := mergedElement(el, s[el], f[el], sent)
		if err != nil {
			return nil, fmt.Errorf("v2fhir.MergePatient: %s: %w", el, err)
		}
		if !set {
			continue
		}
		old, had := s[el]
		_, hadExt := s["_"+el]
		if hadExt || had != (nv != nil) || (nv != nil && !sameJSON(old, nv)) {
			changed = true
		}
		delete(s, "_"+el)
		if nv != nil {
			s[el] = nv
		} else {
			delete(s, el)
		}
	}
	s["resourceType"], s["id"] = f["resourceType"], f["id"]
	if err := dropServerMeta(s); err != nil {
		return nil, err
	}
	if changed {
		delete(s, "text")
	}
	return marshalOrdered(s)
}

// mergedElement is the merge of one element: set is false when the
// stored element stays as it is; otherwise v is its new value, nil to
// remove it.
func mergedElement(el string, stored, fresh json.RawMessage, sent PIDSent) (v json.RawMessage, set bool, err error) {
	switch {
	case el == "telecom":
		if !sent.PID13 && !sent.PID14 {
			return nil, false, nil
		}
		v, err = mergeTelecom(stored, fresh, sent)
		return v, true, err
	case el == "identifier" && fresh != nil && stored != nil:
		v, err = mergeIdentifiers(stored, fresh)
		return v, true, err
	case fresh != nil:
		return fresh, true, nil
	case slices.Contains(sent.Nulled, el):
		return nil, true, nil
	}
	return nil, false, nil
}

// object decodes a JSON object's members.
func object(raw []byte) (map[string]json.RawMessage, error) {
	var o map[string]json.RawMessage
	if err := json.Unmarshal(raw, &o); err != nil {
		return nil, err
	}
	if o == nil {
		return nil, errors.New("not a JSON object")
	}
	return o, nil
}

// sameJSON reports whether two JSON values are equal ignoring
// insignificant whitespace (not key order: a reordered object counts as
// changed, which only costs a dropped narrative).
func sameJSON(a, b json.RawMessage) bool {
	var ca, cb bytes.Buffer
	if json.Compact(&ca, a) != nil || json.Compact(&cb, b) != nil {
		return false
	}
	return bytes.Equal(ca.Bytes(), cb.Bytes())
}

// dropServerMeta removes meta.versionId and meta.lastUpdated, and meta
// itself when nothing else is left in it (profile, tags and security
// labels stay).
func dropServerMeta(s map[string]json.RawMessage) error {
	raw, ok := s["meta"]
	if !ok {
		return nil
	}
	meta, err := object(raw)
	if err != nil {
		return fmt.Errorf("v2fhir.MergePatient: stored meta: %w", err)
	}
	delete(meta, "versionId")
	delete(meta, "lastUpdated")
	if len(meta) == 0 {
		delete(s, "meta")
		return nil
	}
	b, err := marshalOrdered(meta)
	s["meta"] = b
	return err
}

// marshalOrdered writes a JSON object with resourceType, id and meta
// first (when present), then the other keys sorted, values compacted.
func marshalOrdered(obj map[string]json.RawMessage) ([]byte, error) {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		if k != "resourceType" && k != "id" && k != "meta" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b bytes.Buffer
	b.WriteByte('{')
	for _, k := range append([]string{"resourceType", "id", "meta"}, keys...) {
		v, ok := obj[k]
		if !ok {
			continue
		}
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		name, _ := json.Marshal(k)
		b.Write(name)
		b.WriteByte(':')
		if err := json.Compact(&b, v); err != nil {
			return nil, fmt.Errorf("v2fhir.MergePatient: element %s: %v", k, err)
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
