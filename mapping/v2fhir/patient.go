package v2fhir

import (
	"strings"

	"github.com/codebridge/codebridge/mapping/hl7v2"
)

// pidFields names the PID fields each Patient element is mapped from: an
// element is valued when one of its fields gives it a value, and nulled
// when it is not valued and one of its fields is the HL7 explicit null "".
// Telecom is not listed: PID-13 and PID-14 each update only the entries of
// their own origin (PIDSent).
var pidFields = map[string][]int{
	"identifier": {3},
	"name":       {5},
	"birthDate":  {7},
	"gender":     {8},
	"address":    {11},
}

// patient maps PID: PID-3 identifiers (type and assigner from CX.5 and
// CX.4), PID-5 names, PID-7 birth date, PID-8 sex (table 0001), PID-11
// addresses, PID-13 and PID-14 (home and business) phones and e-mail. It
// also returns what the PID sent beyond that Patient (the elements it
// sends as explicit nulls, and which telecom fields it sent), which a
// merge into the stored Patient needs (see MergePatient).
func (m *mapper) patient() (patient, PIDSent) {
	p := patient{ResourceType: "Patient", ID: m.patID}
	for _, r := range m.pid.Field(3).Reps() {
		if value(r.Comp(1)) != "" {
			p.Identifier = append(p.Identifier, m.identifierOf(r, ""))
		}
	}
	for _, r := range m.pid.Field(5).Reps() {
		if n, ok := nameOf(r, 1, 7); ok {
			p.Name = append(p.Name, n)
		}
	}
	var sent PIDSent
	for _, f := range []struct {
		n      int
		defUse string
		sent   *bool
	}{{13, "", &sent.PID13}, {14, "work", &sent.PID14}} {
		before := len(p.Telecom)
		for _, r := range m.pid.Field(f.n).Reps() {
			if c, ok := contactOf(r, f.defUse); ok {
				p.Telecom = append(p.Telecom, c)
			}
		}
		*f.sent = len(p.Telecom) > before || m.pid.Field(f.n).IsNull()
	}
	if v := value(m.pid.Value(7, 1)); v != "" {
		d, ok := parseDate(v)
		if !ok {
			m.errs.at(m.pid, 7, 1, codeDataType, "date of birth is not a valid date")
		}
		p.BirthDate = d
	}
	if v := strings.ToUpper(value(m.pid.Value(8, 1))); v != "" {
		g, ok := genders[v]
		if !ok {
			m.errs.at(m.pid, 8, 1, codeTable, "administrative sex is not in table 0001")
		}
		p.Gender = g
	}
	for _, r := range m.pid.Field(11).Reps() {
		if a, ok := addressOf(r); ok {
			p.Address = append(p.Address, a)
		}
	}
	valued := map[string]bool{"identifier": len(p.Identifier) > 0, "name": len(p.Name) > 0,
		"gender": p.Gender != "", "birthDate": p.BirthDate != "", "address": len(p.Address) > 0}
	sent.Nulled = m.nulled(valued)
	return p, sent
}

// nulled lists, in patientElements order, the elements not valued whose
// PID fields include an explicit null.
func (m *mapper) nulled(valued map[string]bool) []string {
	var out []string
	for _, el := range patientElements {
		if valued[el] {
			continue
		}
		for _, n := range pidFields[el] {
			if m.pid.Field(n).IsNull() {
				out = append(out, el)
				break
			}
		}
	}
	return out
}

// genders is the V2-to-FHIR AdministrativeSex concept map (table 0001).
var genders = map[string]string{"F": "female", "M": "male", "O": "other", "U": "unknown", "A": "other", "N": "other"}

// addressUses maps XAD.7 (address type, table 0190) to Address.use (or,
// for M mailing, Address.type postal): the V2-to-FHIR AddressUse map's
// codes that R4 has.
var addressUses = map[string]string{"H": "home", "P": "home", "B": "work", "O": "work", "C": "temp", "BA": "old", "BI": "billing"}

// addressOf maps an XAD: XAD.1.1 (street) and XAD.2 (other designation)
// as lines, XAD.3 city, XAD.4 state, XAD.5 postal code, XAD.6 country,
// XAD.7 use. It reports false when the XAD holds none of them.
func addressOf(rep hl7v2.Rep) (address, bool) {
	a := address{City: value(rep.Comp(3)), State: value(rep.Comp(4)), PostalCode: value(rep.Comp(5)), Country: value(rep.Comp(6))}
	for _, l := range []string{value(rep.Sub(1, 1)), value(rep.Comp(2))} {
		if l != "" {
			a.Line = append(a.Line, l)
		}
	}
	if len(a.Line) == 0 && a.City == "" && a.State == "" && a.PostalCode == "" && a.Country == "" {
		return address{}, false
	}
	switch t := strings.ToUpper(value(rep.Comp(7))); t {
	case "M":
		a.Type = "postal"
	default:
		a.Use = addressUses[t]
	}
	return a, true
}

// contactUses is the V2-to-FHIR TelecommunicationUseCode map (table 0201
// to ContactPoint.use); the other codes get no use.
var contactUses = map[string]string{"PRN": "home", "WPN": "work", "PRS": "mobile"}

// contactOf maps an XTN: XTN.3 equipment type to the system (Internet or
// X.400 e-mail with the address in XTN.4; FX fax; BP pager; anything else
// a phone, CP a mobile one), XTN.2 to the use (defUse when table 0201 has
// no FHIR use for it: PID-14 is the business number). A phone number is
// XTN.12 (unformatted), else +XTN.5 XTN.6 XTN.7 with XTN.8 as extension,
// else the pre-2.5 XTN.1. It reports false when no value is found.
func contactOf(rep hl7v2.Rep, defUse string) (contactPoint, bool) {
	use, equip := strings.ToUpper(value(rep.Comp(2))), strings.ToUpper(value(rep.Comp(3)))
	c := contactPoint{System: "phone", Use: contactUses[use]}
	phone, email := phoneNumber(rep), value(rep.Comp(4))
	switch {
	case equip == "INTERNET" || equip == "X.400" || (equip == "" && email != "" && (use == "NET" || phone == "")):
		c.System, c.Value = "email", email
	case equip == "FX":
		c.System, c.Value = "fax", phone
	case equip == "BP":
		c.System, c.Value = "pager", phone
	default:
		c.Value = phone
		if equip == "CP" && c.Use == "" {
			c.Use = "mobile"
		}
	}
	if c.Use == "" {
		c.Use = defUse
	}
	return c, c.Value != ""
}

// phoneNumber reads an XTN's telephone number (see contactOf).
func phoneNumber(rep hl7v2.Rep) string {
	if v := value(rep.Comp(12)); v != "" {
		return v
	}
	local := value(rep.Comp(7))
	if local == "" {
		return value(rep.Comp(1))
	}
	var parts []string
	if cc := strings.TrimPrefix(value(rep.Comp(5)), "+"); cc != "" {
		parts = append(parts, "+"+cc)
	}
	if area := value(rep.Comp(6)); area != "" {
		parts = append(parts, area)
	}
	n := strings.Join(append(parts, local), " ")
	if ext := value(rep.Comp(8)); ext != "" {
		n += " ext. " + ext
	}
	return n
}
