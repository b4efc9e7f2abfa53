package v2fhir

import (
	"strings"
	"time"

	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping/hl7v2"
)

// mapper maps one message: its keys, the entries built so far and the
// problems found.
type mapper struct {
	msg  *hl7v2.Message
	opts Options
	loc  *time.Location
	errs problems

	facility     string // MSH-4.1
	pid, pv1     *hl7v2.Segment
	encID, patID string
	orgID        string // the sending facility's Organization
	entries      []bundleEntry
	seen         map[string]bool // "Type/id" already in entries
	stored       *Stored         // MapStored: what the store holds; nil for Map
	fault        error           // a failure that is not the message's (a stored Patient that does not decode)
}

func newMapper(msg *hl7v2.Message, opts Options) *mapper {
	loc := opts.Location
	if loc == nil {
		loc = time.UTC
	}
	return &mapper{msg: msg, opts: opts, loc: loc, seen: map[string]bool{}}
}

// keys finds what every id derives from: the sending facility (MSH-4),
// the patient's MRN (PID-3) and the visit number (PV1-19). Without them
// nothing can be mapped, so their absence ends the mapping at once.
func (m *mapper) keys() error {
	msh := m.msg.First("MSH")
	m.facility = value(m.msg.Header().SendingFacility)
	if m.facility == "" {
		m.errs.at(msh, 4, 1, codeRequired, "sending facility is required: resource ids derive from it")
	}
	if m.pid = m.msg.First("PID"); m.pid == nil {
		m.errs.add(nil, "PID", 0, 0, codeSequence, "PID segment is required")
	} else if mrn := m.mrn(); mrn == "" {
		m.errs.at(m.pid, 3, 1, codeRequired, "patient identifier list is required")
	} else {
		m.patID = resourceID("Patient", m.facility, mrn)
	}
	if m.pv1 = m.msg.First("PV1"); m.pv1 == nil {
		m.errs.add(nil, "PV1", 0, 0, codeSequence, "PV1 segment is required")
	} else if vn := value(m.pv1.Value(19, 1)); vn == "" {
		m.errs.at(m.pv1, 19, 1, codeRequired, "visit number is required")
	} else {
		m.encID = resourceID("Encounter", m.facility, vn)
	}
	m.orgID = resourceID("Organization", m.facility)
	return m.errs.err()
}

// mrn is the PID-3 identifier of type MR, else the first one with a value.
func (m *mapper) mrn() string {
	first := ""
	for _, r := range m.pid.Field(3).Reps() {
		v := value(r.Comp(1))
		if v != "" && strings.EqualFold(value(r.Comp(5)), "MR") {
			return v
		}
		if first == "" {
			first = v
		}
	}
	return first
}

// add appends a PUT entry unless the same Type/id is already in the
// Bundle (two DG1 with one code are one Condition: the first wins).
func (m *mapper) add(typ, id string, res any) {
	key := typ + "/" + id
	if m.seen[key] {
		return
	}
	m.seen[key] = true
	m.entries = append(m.entries, bundleEntry{Resource: res, Request: bundleRequest{Method: "PUT", URL: key}})
}

// build maps every segment codebridge uses, in the order the entries go
// into the Bundle.
func (m *mapper) build(ev string, prior *Prior) {
	m.add("Organization", m.orgID, m.facilityOrganization())
	attending := m.practitioners()
	m.add("Patient", m.patID, m.patientResource())
	conds, dx := m.conditions()
	m.add("Encounter", m.encID, m.encounter(ev, prior, attending, dx))
	for _, c := range conds {
		m.add("Condition", c.ID, c)
	}
	m.withdrawDropped(ev, prior, dx)
	m.procedures()
	m.coverages()
	m.charges()
}

// withdrawDropped deletes the Conditions of the prior diagnosis list that
// an ADT message's DG1 list no longer names (an A03's final diagnoses
// replace the A01's working ones): a FHIR DELETE marks them
// entered-in-error, so the chart stops suggesting them. The admitting
// diagnosis (use AD) is kept: an institutional claim reports it (UB-04
// FL 69) whatever the final diagnoses are. Only Conditions this mapping
// made (ids "v2-...") are withdrawn; a DFT, or an ADT without DG1, keeps the
// prior list (see diagnoses).
func (m *mapper) withdrawDropped(ev string, prior *Prior, dx []encounterDiagnosis) {
	if prior == nil || len(dx) == 0 || ev == "DFT^P03" {
		return
	}
	kept := map[string]bool{}
	for _, d := range dx {
		kept[d.Condition.Reference] = true
	}
	for _, d := range prior.Diagnoses {
		id, ok := strings.CutPrefix(d.Condition, "Condition/")
		if !ok || !strings.HasPrefix(id, "v2-") || kept[d.Condition] || m.seen[d.Condition] || admitting(d.Use) {
			continue
		}
		m.seen[d.Condition] = true
		m.entries = append(m.entries, bundleEntry{Request: bundleRequest{Method: "DELETE", URL: d.Condition}})
	}
}

// admitting reports whether an Encounter.diagnosis use is AD (admission
// diagnosis).
func admitting(use fhir.Concept) bool {
	for _, c := range use.Codings {
		if c.Code == "AD" {
			return true
		}
	}
	return false
}

// ref is a reference to Type/id.
func ref(typ, id string) reference { return reference{Reference: typ + "/" + id} }

// facilityOrganization is the sending facility (MSH-4) as the Encounter's
// serviceProvider: named by its namespace id, identified by it (and by its
// universal id, as an RFC 3986 URI, when MSH-4.2/4.3 give an ISO OID, UUID
// or URI).
func (m *mapper) facilityOrganization() organization {
	o := organization{ResourceType: "Organization", ID: m.orgID, Active: true, Name: m.facility,
		Identifier: []identifier{{System: localSystemPrefix + "facility", Value: m.facility}}}
	if msh := m.msg.First("MSH"); msh != nil {
		a := authority{uid: value(msh.Value(4, 2)), utype: strings.ToUpper(value(msh.Value(4, 3)))}
		if uri := m.system(a, ""); a.uid != "" && !strings.HasPrefix(uri, localSystemPrefix) {
			// A universal id is itself a URI: FHIR identifies it under RFC 3986.
			o.Identifier = append(o.Identifier, identifier{System: "urn:ietf:rfc:3986", Value: uri})
		}
	}
	return o
}

// practitioners maps the attending doctors (PV1-7, XCN) to Practitioners
// and returns their references: id from the facility and XCN.1 (or the
// name when no id is sent), identifier from XCN.1 with XCN.9/XCN.13 (NPI
// when either says so), name from XCN.2-6.
func (m *mapper) practitioners() []reference {
	var refs []reference
	for _, r := range m.pv1.Field(7).Reps() {
		num := value(r.Comp(1))
		n, named := nameOf(r, 2, 10)
		if num == "" && !named {
			continue
		}
		key := num
		if key == "" {
			key = "name:" + n.Family + "," + strings.Join(n.Given, " ")
		}
		pr := practitioner{ResourceType: "Practitioner", ID: resourceID("Practitioner", m.facility, key)}
		if num != "" {
			pr.Identifier = []identifier{{System: m.system(authorityAt(r, 9), value(r.Comp(13))), Value: num}}
		}
		if named {
			pr.Name = []humanName{n}
		}
		m.add("Practitioner", pr.ID, pr)
		refs = append(refs, ref("Practitioner", pr.ID))
	}
	return refs
}
