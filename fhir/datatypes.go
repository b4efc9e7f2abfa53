package fhir

import (
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	d4pb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/datatypes_go_proto"
)

// Coding is a plain copy of an R4 Coding.
type Coding struct {
	System, Code, Display string
}

// Concept is a plain copy of an R4 CodeableConcept.
type Concept struct {
	Codings []Coding
	Text    string
}

// Code returns the code of the first coding in system (any system when
// system is ""), or "".
func (c Concept) Code(system string) string {
	for _, cd := range c.Codings {
		if system == "" || cd.System == system {
			return cd.Code
		}
	}
	return ""
}

// Identifier is a plain copy of an R4 Identifier's system and value.
type Identifier struct {
	System, Value string
}

// String returns the "system|value" token form used by FHIR search.
func (i Identifier) String() string { return i.System + "|" + i.Value }

// Period is a plain copy of an R4 Period; absent ends are the zero time.
type Period struct {
	Start, End time.Time
}

// HumanName is a plain copy of an R4 HumanName.
type HumanName struct {
	Use, Text, Family string
	Given, Prefix     []string
}

// codingOf copies a Coding.
func codingOf(c *d4pb.Coding) Coding {
	return Coding{System: c.GetSystem().GetValue(), Code: c.GetCode().GetValue(), Display: c.GetDisplay().GetValue()}
}

// conceptOf copies a CodeableConcept.
func conceptOf(cc *d4pb.CodeableConcept) Concept {
	out := Concept{Text: cc.GetText().GetValue()}
	for _, c := range cc.GetCoding() {
		out.Codings = append(out.Codings, codingOf(c))
	}
	return out
}

// conceptsOf copies a list of CodeableConcepts.
func conceptsOf(ccs []*d4pb.CodeableConcept) []Concept {
	var out []Concept
	for _, cc := range ccs {
		out = append(out, conceptOf(cc))
	}
	return out
}

// identifiersOf copies Identifiers.
func identifiersOf(ids []*d4pb.Identifier) []Identifier {
	var out []Identifier
	for _, id := range ids {
		out = append(out, Identifier{System: id.GetSystem().GetValue(), Value: id.GetValue().GetValue()})
	}
	return out
}

// namesOf copies HumanNames.
func namesOf(ns []*d4pb.HumanName) []HumanName {
	var out []HumanName
	for _, n := range ns {
		h := HumanName{Use: codeOf(n.GetUse()), Text: n.GetText().GetValue(), Family: n.GetFamily().GetValue()}
		for _, g := range n.GetGiven() {
			h.Given = append(h.Given, g.GetValue())
		}
		for _, p := range n.GetPrefix() {
			h.Prefix = append(h.Prefix, p.GetValue())
		}
		out = append(out, h)
	}
	return out
}

// refsOf returns the literal references of a list of References.
func refsOf(refs []*d4pb.Reference) []string {
	var out []string
	for _, r := range refs {
		if s := ReferenceString(r); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// timeOf converts a google/fhir microsecond timestamp and zone to a time.
func timeOf(us int64, tz string) time.Time {
	if us == 0 && tz == "" {
		return time.Time{}
	}
	return time.UnixMicro(us).In(zoneOf(tz))
}

// zoneOf parses a google/fhir timezone: "UTC", "Z", "+01:00" or an IANA name.
func zoneOf(tz string) *time.Location {
	switch tz {
	case "", "UTC", "Z":
		return time.UTC
	}
	if len(tz) == 6 && (tz[0] == '+' || tz[0] == '-') && tz[3] == ':' {
		h, err1 := strconv.Atoi(tz[1:3])
		m, err2 := strconv.Atoi(tz[4:6])
		if err1 == nil && err2 == nil {
			off := h*3600 + m*60
			if tz[0] == '-' {
				off = -off
			}
			return time.FixedZone(tz, off)
		}
	}
	if loc, err := time.LoadLocation(tz); err == nil {
		return loc
	}
	return time.UTC
}

// dateTimeOf converts a DateTime (nil gives the zero time).
func dateTimeOf(d *d4pb.DateTime) time.Time {
	if d == nil {
		return time.Time{}
	}
	return timeOf(d.GetValueUs(), d.GetTimezone())
}

// AsSent renders a DateTime as the sender wrote it, at its precision: a
// time in the offset it was sent with, "Z" when it was sent in UTC
// ("2025-09-30T21:00:00-05:00", "2025-10-01T02:00:00Z"), or a bare date,
// month or year when only that was sent ("2025-09-30"); "" for nil.
func AsSent(d *d4pb.DateTime) string {
	if d == nil {
		return ""
	}
	t := timeOf(d.GetValueUs(), d.GetTimezone())
	switch d.GetPrecision() {
	case d4pb.DateTime_YEAR:
		return t.Format("2006")
	case d4pb.DateTime_MONTH:
		return t.Format("2006-01")
	case d4pb.DateTime_DAY:
		return t.Format(time.DateOnly)
	}
	switch d.GetTimezone() {
	case "Z", "UTC":
		t = t.UTC()
	}
	return t.Format(time.RFC3339Nano)
}

// periodOf converts a Period.
func periodOf(p *d4pb.Period) Period {
	return Period{Start: dateTimeOf(p.GetStart()), End: dateTimeOf(p.GetEnd())}
}

// dateString renders a Date at its precision ("1974", "1974-12", "1974-12-25").
func dateString(d *d4pb.Date) string {
	if d == nil {
		return ""
	}
	t := timeOf(d.GetValueUs(), d.GetTimezone())
	switch d.GetPrecision() {
	case d4pb.Date_YEAR:
		return t.Format("2006")
	case d4pb.Date_MONTH:
		return t.Format("2006-01")
	}
	return t.Format("2006-01-02")
}

// Identifiers lists the identifiers (system and value) of any resource
// proto, whether its identifier element is a list or a single Identifier;
// conditional create keys on these.
func Identifiers(msg proto.Message) []Identifier {
	if msg == nil {
		return nil
	}
	m := msg.ProtoReflect()
	fd := m.Descriptor().Fields().ByName("identifier")
	if fd == nil || fd.Message() == nil || !m.Has(fd) {
		return nil
	}
	var ids []*d4pb.Identifier
	if fd.IsList() {
		l := m.Get(fd).List()
		for i := 0; i < l.Len(); i++ {
			ids = append(ids, asIdentifier(l.Get(i).Message()))
		}
	} else {
		ids = append(ids, asIdentifier(m.Get(fd).Message()))
	}
	return identifiersOf(ids)
}

// asIdentifier converts a reflected message to *d4pb.Identifier (nil if not).
func asIdentifier(m protoreflect.Message) *d4pb.Identifier {
	id, _ := m.Interface().(*d4pb.Identifier)
	return id
}

// npiOf returns the value of the first NPI identifier, or "".
func npiOf(ids []Identifier) string {
	for _, id := range ids {
		if id.System == SystemNPI {
			return strings.TrimSpace(id.Value)
		}
	}
	return ""
}
