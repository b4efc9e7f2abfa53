package v2fhir

import (
	"strconv"
	"strings"

	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping/hl7v2"
)

// systemSubscriberRelationship is the R4 subscriber-relationship code system.
const systemSubscriberRelationship = "http://terminology.hl7.org/CodeSystem/subscriber-relationship"

// relationships maps IN1-17 (table 0063) to Coverage.relationship. The
// IG's Relationship map targets v3 RoleCode, which Coverage.relationship
// does not bind to, so codebridge uses subscriber-relationship: the codes
// claims read.
var relationships = map[string]string{
	"SEL": "self", "SPO": "spouse", "DOM": "common",
	"CHD": "child", "NCH": "child", "SCH": "child", "FCH": "child",
	"PAR": "parent", "MTH": "parent", "FTH": "parent",
}

// coverages maps each IN1 to an active Coverage of the patient (id from
// the patient, the plan, the policy and the payer) and its payer to an
// Organization: IN1-2 plan (as class "plan"), IN1-3/IN1-4 payer id and
// name, IN1-8/9 group (class "group"), IN1-12/13 period, IN1-17
// relationship, IN1-36 policy number (else IN1-49 insured's id) as
// subscriberId, IN1-22 order (else the IN1's position).
func (m *mapper) coverages() {
	for i, seg := range m.msg.All("IN1") {
		payer, ok := m.payer(seg)
		if !ok {
			continue
		}
		plan, policy := value(seg.Value(2, 1)), first(value(seg.Value(36, 1)), value(seg.Value(49, 1)))
		c := coverage{ResourceType: "Coverage", ID: resourceID("Coverage", m.patID, plan, policy, payer.ID),
			Status: "active", SubscriberID: policy, Beneficiary: ref("Patient", m.patID),
			Payor: []reference{ref("Organization", payer.ID)}, Order: i + 1}
		if plan != "" {
			c.Class = append(c.Class, coverageClass{Type: status(fhir.SystemCoverageClass, "plan"), Value: plan, Name: value(seg.Value(2, 2))})
		}
		if group := value(seg.Value(8, 1)); group != "" {
			c.Class = append(c.Class, coverageClass{Type: status(fhir.SystemCoverageClass, "group"), Value: group, Name: value(seg.Value(9, 1))})
		}
		if rel := strings.ToUpper(value(seg.Value(17, 1))); rel != "" {
			code := first(relationships[rel], "other")
			c.Relationship = ptr(status(systemSubscriberRelationship, code))
			if code == "self" {
				c.Subscriber = ptr(ref("Patient", m.patID))
			}
		}
		if n, err := strconv.Atoi(value(seg.Value(22, 1))); err == nil && n > 0 {
			c.Order = n
		}
		c.Period = m.planPeriod(seg)
		m.add("Organization", payer.ID, payer)
		m.add("Coverage", c.ID, c)
	}
}

// payer is the IN1's insurance company: IN1-3 id (CX), IN1-4 name (XON).
func (m *mapper) payer(seg *hl7v2.Segment) (organization, bool) {
	idRep := seg.Field(3).Rep(0)
	id, name := value(idRep.Comp(1)), value(seg.Value(4, 1))
	if id == "" && name == "" {
		m.errs.at(seg, 3, 1, codeRequired, "insurance company id or name (IN1-4) is required")
		return organization{}, false
	}
	o := organization{ResourceType: "Organization", ID: resourceID("Organization", m.facility, "payer", first(id, "name:"+name)),
		Active: true, Name: name}
	if id != "" {
		o.Identifier = []identifier{m.identifierOf(idRep, "")}
	}
	return o, true
}

// planPeriod reads IN1-12/13 (plan effective and expiration dates).
func (m *mapper) planPeriod(seg *hl7v2.Segment) *period {
	var p period
	for _, f := range []struct {
		n   int
		dst *string
	}{{12, &p.Start}, {13, &p.End}} {
		v := value(seg.Value(f.n, 1))
		if v == "" {
			continue
		}
		d, ok := parseDate(v)
		if !ok {
			m.errs.at(seg, f.n, 1, codeDataType, "plan date is not a valid date")
		}
		*f.dst = d
	}
	if p == (period{}) {
		return nil
	}
	return &p
}
