package v2fhir

import (
	"crypto/sha256"
	"encoding/base32"
	"net/url"
	"strings"

	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping/codes"
	"github.com/codebridge/codebridge/mapping/hl7v2"
)

// localSystemPrefix starts the identifier systems codebridge makes up for
// HL7 assigning authorities that name no OID, UUID or URI.
const localSystemPrefix = "urn:codebridge:hl7v2:"

// resourceID derives a resource id from stable keys: "v2-" and 26 base32
// characters of SHA-256 over the type and the keys (130 bits), a legal
// FHIR id that says where it came from and never collides by accident.
func resourceID(typ string, keys ...string) string {
	h := sha256.New()
	h.Write([]byte(typ))
	for _, k := range keys {
		h.Write([]byte{0})
		h.Write([]byte(k))
	}
	enc := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(h.Sum(nil))
	return "v2-" + strings.ToLower(enc[:26])
}

// localSystem is the identifier system of ids assigned by scope (an
// assigning authority's namespace, or the sending facility) of one kind
// (the identifier type, lower case: "mr", "vn"...).
func localSystem(scope, kind string) string {
	return localSystemPrefix + url.PathEscape(scope) + ":" + url.PathEscape(strings.ToLower(kind))
}

// value reads a v2 value, treating the explicit null "" as absent (a
// mapping that rebuilds whole resources has nothing to delete field by
// field) and dropping control characters other than tab, CR and LF, which
// FHIR strings may not hold (an escape such as \X01\ can produce them).
func value(s string) string {
	s = strings.TrimSpace(strings.Map(func(r rune) rune {
		if (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || (r >= 0x7f && r <= 0x9f) {
			return -1
		}
		return r
	}, s))
	if s == hl7v2.Null {
		return ""
	}
	return s
}

// codeValue reads a v2 value for a FHIR code, whose whitespace must be single
// spaces between words.
func codeValue(s string) string {
	return strings.Join(strings.Fields(value(s)), " ")
}

// authority is an HL7 HD (assigning authority): namespace, universal id and
// its type.
type authority struct{ ns, uid, utype string }

// authorityAt reads the HD in component comp of rep (its subcomponents).
func authorityAt(rep hl7v2.Rep, comp int) authority {
	return authority{value(rep.Sub(comp, 1)), value(rep.Sub(comp, 2)), strings.ToUpper(value(rep.Sub(comp, 3)))}
}

// system derives an Identifier.system for ids of type idType assigned by
// a: the universal id as urn:oid/urn:uuid/URI when it has one, the NPI
// system when the authority or the type says NPI, else a local system under
// the authority's namespace (or the sending facility when there is none).
func (m *mapper) system(a authority, idType string) string {
	switch {
	case a.uid != "" && a.utype == "ISO":
		return "urn:oid:" + a.uid
	case a.uid != "" && a.utype == "UUID":
		return "urn:uuid:" + strings.ToLower(a.uid)
	case a.uid != "" && (a.utype == "URI" || a.utype == "URL"):
		return a.uid
	case strings.EqualFold(a.ns, "NPI") || strings.EqualFold(idType, "NPI"):
		return fhir.SystemNPI
	}
	scope := a.ns
	if scope == "" {
		scope = m.facility
	}
	if idType == "" {
		idType = "id"
	}
	return localSystem(scope, idType)
}

// identifierOf maps a CX (id^check^scheme^authority^type...) to an
// Identifier: CX.1 value, CX.4 system and assigner, CX.5 type (v2-0203).
// defType types a CX that names none (PV1-19 is a visit number).
func (m *mapper) identifierOf(rep hl7v2.Rep, defType string) identifier {
	a := authorityAt(rep, 4)
	typ := strings.ToUpper(codeValue(rep.Comp(5)))
	if typ == "" {
		typ = defType
	}
	id := identifier{System: m.system(a, typ), Value: value(rep.Comp(1))}
	if typ != "" {
		id.Type = &concept{Coding: []coding{{System: fhir.SystemIdentifierType, Code: typ}}}
	}
	if a.ns != "" {
		id.Assigner = &reference{Display: a.ns}
	}
	return id
}

// nameOf maps the name components of an XPN (from component first: 1 for
// XPN, 2 for XCN) to a HumanName: family (FN.1), given and second given
// names, suffix, prefix; name type L is the official name.
func nameOf(rep hl7v2.Rep, first int, typeComp int) (humanName, bool) {
	n := humanName{Family: value(rep.Sub(first, 1))}
	for _, c := range []int{first + 1, first + 2} {
		if g := value(rep.Comp(c)); g != "" {
			n.Given = append(n.Given, g)
		}
	}
	if s := value(rep.Comp(first + 3)); s != "" {
		n.Suffix = []string{s}
	}
	if p := value(rep.Comp(first + 4)); p != "" {
		n.Prefix = []string{p}
	}
	if strings.EqualFold(value(rep.Comp(typeComp)), "L") {
		n.Use = "official"
	}
	return n, n.Family != "" || len(n.Given) > 0
}

// codeRule says how strictly a coded field's coding system is read.
type codeRule int

const (
	// billingCode fields (DG1-3, PR1-3, FT1-25, FT1-19) must name a coding
	// system the alias table knows: a code in an unknown system cannot be
	// billed, so the message is refused rather than half understood.
	billingCode codeRule = iota + 1
	// procedureCode is billingCode for procedure fields (PR1-3, FT1-25),
	// where a code sent without a system is read by its format: CPT
	// (99213, 0001F), HCPCS Level II (G2211) or ICD-10-PCS (0DTJ4ZZ).
	procedureCode
	// localCode fields (FT1-7, the chargemaster item) keep a code of an
	// unknown system under a local system naming the facility and the
	// table ("urn:codebridge:hl7v2:CBHOSP:99cdm"), or without system when
	// none is named.
	localCode
)

// codingsOf reads a CWE/CNE (code^text^system, alternate code^text^system
// in components 4-6) as codings under rule, recording problems against
// seg-field. defSys names the system when component 3 is empty (DG1-2, the
// diagnosis coding method of older senders). The alternate triplet is kept
// when its system is known and dropped otherwise.
func (m *mapper) codingsOf(seg *hl7v2.Segment, field int, rep hl7v2.Rep, rule codeRule, defSys string) []coding {
	code, text, sys := codeValue(rep.Comp(1)), value(rep.Comp(2)), first(value(rep.Comp(3)), defSys)
	if code == "" {
		return nil
	}
	uri, ok := m.codeSystem(sys)
	switch {
	case sys == "" && rule == procedureCode:
		uri, ok = formatSystem(code)
		if !ok {
			m.errs.at(seg, field, 3, codeRequired, "coding system is missing and the code is not CPT, HCPCS or ICD-10-PCS")
			return nil
		}
	case sys == "" && rule != localCode:
		m.errs.at(seg, field, 3, codeRequired, "coding system is missing")
		return nil
	case !ok && rule != localCode:
		m.errs.at(seg, field, 3, codeTable, "coding system is not in the HL7 code alias table")
		return nil
	case !ok && sys != "":
		uri = localSystem(m.facility, sys) // the facility's own table (99zzz...)
	}
	out := []coding{{System: uri, Code: code, Display: text}}
	if alt := codeValue(rep.Comp(4)); alt != "" {
		if uri, ok := m.codeSystem(value(rep.Comp(6))); ok {
			out = append(out, coding{System: uri, Code: alt, Display: value(rep.Comp(5))})
		}
	}
	return out
}

// codeSystem resolves an HL7 coding-system name (table 0396: I10, C4,
// HCPCS...) through the alias table; a name that is already a URI (http,
// https or urn) is taken as it is.
func (m *mapper) codeSystem(name string) (string, bool) {
	if name == "" {
		return "", false
	}
	if uri, ok := m.opts.Aliases[strings.ToUpper(name)]; ok {
		return uri, true
	}
	l := strings.ToLower(name)
	if strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "urn:") {
		return name, true
	}
	return "", false
}

// formatSystem names the system of a procedure code by its format.
func formatSystem(code string) (string, bool) {
	c := strings.ToUpper(code)
	if _, ok := codes.CPTFormat(c); ok {
		return fhir.SystemCPT, true
	}
	if codes.HCPCSFormat(c) {
		return fhir.SystemHCPCS, true
	}
	if len(c) == 7 && isAlnum(c) {
		return fhir.SystemICD10PCS, true
	}
	return "", false
}

func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'A' || c > 'Z') {
			return false
		}
	}
	return true
}

// modifierCoding codes a procedure modifier the way the Claim does:
// letter-first modifiers (GT, LT, Q5...) are HCPCS Level II, the others
// (25, 95, 1P...) CPT, whatever system name the sender gave.
func modifierCoding(code string) coding {
	code = strings.ToUpper(code)
	if code != "" && code[0] >= 'A' && code[0] <= 'Z' {
		return coding{System: fhir.SystemHCPCS, Code: code}
	}
	return coding{System: fhir.SystemCPT, Code: code}
}
