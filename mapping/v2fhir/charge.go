package v2fhir

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping/codes"
	"github.com/codebridge/codebridge/mapping/hl7v2"
)

// charges maps each FT1 charge (FT1-6 CG, or empty) and credit (CD) to a
// billable ChargeItem on the Encounter (see the package doc): id from the
// Encounter and FT1-2 (else the code, FT1-4 date and type); FT1-25 code
// (then FT1-7, the chargemaster item), FT1-26 modifiers, FT1-10 quantity
// (negative for a credit), FT1-4 service date, FT1-19 diagnoses as reason.
// Payments, adjustments and other transaction types are not charges and
// are left out.
func (m *mapper) charges() {
	for _, seg := range m.msg.All("FT1") {
		typ := strings.ToUpper(value(seg.Value(6, 1)))
		if typ != "" && typ != "CG" && typ != "CD" {
			continue
		}
		code, ok := m.chargeCode(seg)
		if !ok {
			continue
		}
		when := m.timeAt(seg, 4, "transaction date")
		c := chargeItem{ResourceType: "ChargeItem", Status: "billable", Code: code,
			Subject: ref("Patient", m.patID), Context: ref("Encounter", m.encID), OccurrenceDateTime: when,
			Quantity: m.chargeQuantity(seg, typ == "CD"), Extension: m.modifiers(seg), Reason: m.reasons(seg)}
		if txn := value(seg.Value(2, 1)); txn != "" {
			c.ID = resourceID("ChargeItem", m.encID, "txn", txn)
			c.Identifier = []identifier{{System: localSystem(m.facility, "ft1"), Value: txn}}
		} else {
			c.ID = resourceID("ChargeItem", m.encID, "code", code.Coding[0].System, code.Coding[0].Code, when, typ)
		}
		m.add("ChargeItem", c.ID, c)
	}
}

// chargeCode is ChargeItem.code: the FT1-25 procedure code (a code without
// system read by its format) and the FT1-7 transaction code, whose local
// chargemaster system is kept only when the alias table knows it.
func (m *mapper) chargeCode(seg *hl7v2.Segment) (concept, bool) {
	var c concept
	proc, txn := seg.Field(25).Rep(0), seg.Field(7).Rep(0)
	if value(proc.Comp(1)) != "" {
		cs := m.codingsOf(seg, 25, proc, procedureCode, "")
		if cs == nil {
			return c, false
		}
		c.Coding = cs
	}
	c.Coding = append(c.Coding, m.codingsOf(seg, 7, txn, localCode, "")...)
	if len(c.Coding) == 0 {
		m.errs.at(seg, 25, 1, codeRequired, "procedure code (or transaction code FT1-7) is required")
		return c, false
	}
	return c, true
}

// chargeQuantity reads FT1-10 (NM). A credit's quantity is negative (one
// unit when FT1-10 is empty), so it nets out the charge it reverses.
func (m *mapper) chargeQuantity(seg *hl7v2.Segment, credit bool) *quantity {
	v := value(seg.Value(10, 1))
	if v == "" && !credit {
		return nil
	}
	q := 1.0
	if v != "" {
		n, ok := number(v)
		if !ok {
			m.errs.at(seg, 10, 1, codeDataType, "transaction quantity is not a number")
			return nil
		}
		q = n
	}
	if credit && q > 0 {
		q = -q
	}
	return &quantity{Value: json.Number(strconv.FormatFloat(q, 'f', -1, 64))}
}

// number reads an HL7 NM: optional sign, digits, optional decimal point.
func number(v string) (float64, bool) {
	s := strings.TrimLeft(v, "+-")
	if len(v)-len(s) > 1 {
		return 0, false
	}
	whole, frac, _ := strings.Cut(s, ".")
	if whole+frac == "" || !allDigits(whole) || !allDigits(frac) {
		return 0, false
	}
	n, err := strconv.ParseFloat(v, 64)
	return n, err == nil
}

// modifiers maps FT1-26 (repeating CNE) to ExtensionChargeItemModifier
// extensions, in order.
func (m *mapper) modifiers(seg *hl7v2.Segment) []extension {
	var out []extension
	for _, r := range seg.Field(26).Reps() {
		mod := strings.ToUpper(value(r.Comp(1)))
		if mod == "" {
			continue
		}
		if !codes.ModifierFormat(mod) {
			m.errs.at(seg, 26, 1, codeDataType, "procedure code modifier is not a two-character modifier")
			continue
		}
		c := modifierCoding(mod)
		out = append(out, extension{URL: fhir.ExtensionChargeItemModifier, ValueCoding: &c})
	}
	return out
}

// reasons maps FT1-19 (repeating CWE, the diagnoses the charge is for) to
// ChargeItem.reason, systems through the alias table.
func (m *mapper) reasons(seg *hl7v2.Segment) []concept {
	var out []concept
	for _, r := range seg.Field(19).Reps() {
		if value(r.Comp(1)) == "" {
			continue
		}
		if cs := m.codingsOf(seg, 19, r, billingCode, ""); cs != nil {
			out = append(out, concept{Coding: cs})
		}
	}
	return out
}
