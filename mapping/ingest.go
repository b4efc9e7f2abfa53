package mapping

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// Supported lists the resource types codebridge stores and serves.
var Supported = []string{"Encounter", "Condition", "Procedure", "ChargeItem", "Patient", "Coverage", "Practitioner", "Organization", "DocumentReference"}

// IsSupported reports whether codebridge stores resources of type t.
func IsSupported(t string) bool {
	for _, s := range Supported {
		if s == t {
			return true
		}
	}
	return false
}

// Prepare turns a parsed resource into a store write: the final id, the
// content hash (for no-op re-sends), identifiers, the Encounter and Patient
// it belongs to, and a summary of indexed facts. It works from the single
// parse the caller made; nothing is parsed again.
func Prepare(res *fhir.Resource, id, method string) (workitem.ResourceWrite, error) {
	w := workitem.ResourceWrite{Type: res.Type, ID: id, Method: method, Raw: res.Raw}
	summary, enc, pat, err := summarize(res, id)
	if err != nil {
		return w, err
	}
	if w.Summary, err = json.Marshal(summary); err != nil {
		return w, err
	}
	w.EncounterID, w.PatientID = enc, pat
	for _, ident := range fhir.Identifiers(res.Msg) {
		if ident.Value != "" {
			w.Identifiers = append(w.Identifiers, workitem.Identifier{System: ident.System, Value: ident.Value})
		}
	}
	if w.Hash, err = contentHash(res.Msg); err != nil {
		return w, err
	}
	raw := res.Raw
	if res.ID != id {
		if raw, err = fhir.SetID(raw, id); err != nil {
			return w, err
		}
		w.Raw = raw
	}
	w.Serve = func(version int, at time.Time) ([]byte, error) {
		return fhir.SetMeta(raw, strconv.Itoa(version), at)
	}
	return w, nil
}

// summarize extracts the facts mapping needs later, and the ids of the
// Encounter and Patient the resource belongs to.
func summarize(res *fhir.Resource, id string) (summary any, encounter, patient string, err error) {
	switch res.Type {
	case "Encounter":
		e, err := fhir.EncounterOf(res)
		return e, id, refID(e.Subject, "Patient"), err
	case "Condition":
		c, err := fhir.ConditionOf(res)
		return c, refID(c.Encounter, "Encounter"), refID(c.Subject, "Patient"), err
	case "Procedure":
		p, err := fhir.ProcedureOf(res)
		return p, refID(p.Encounter, "Encounter"), refID(p.Subject, "Patient"), err
	case "ChargeItem":
		c, err := fhir.ChargeItemOf(res)
		return c, refID(c.Context, "Encounter"), refID(c.Subject, "Patient"), err
	case "DocumentReference":
		d, err := fhir.DocumentReferenceOf(res)
		enc := ""
		if len(d.Encounters) > 0 {
			enc = refID(d.Encounters[0], "Encounter")
		}
		return d, enc, refID(d.Subject, "Patient"), err
	case "Patient":
		p, err := fhir.PatientOf(res)
		return p, "", id, err
	case "Coverage":
		c, err := fhir.CoverageOf(res)
		return c, "", refID(c.Beneficiary, "Patient"), err
	case "Practitioner":
		p, err := fhir.PractitionerOf(res)
		return p, "", "", err
	case "Organization":
		o, err := fhir.OrganizationOf(res)
		return o, "", "", err
	}
	return nil, "", "", fmt.Errorf("mapping.Prepare: unsupported type %s", res.Type)
}

// refID returns the id of a "Type/id" (or absolute) reference of the given
// type, or "".
func refID(ref, typ string) string {
	if ref == "" {
		return ""
	}
	r, err := fhir.ParseReference(ref)
	if err != nil || r.Type != typ {
		return ""
	}
	return r.ID
}

// contentHash hashes the resource without its meta and id (the id is the
// store's key), deterministically, so
// that a re-sent resource (even re-formatted, or with the meta we served)
// hashes the same.
func contentHash(msg proto.Message) ([]byte, error) {
	m := proto.Clone(msg)
	r := m.ProtoReflect()
	for _, name := range []protoreflect.Name{"meta", "id"} {
		if fd := r.Descriptor().Fields().ByName(name); fd != nil {
			r.Clear(fd)
		}
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(b)
	return sum[:], nil
}

// NormalizeCriteria canonicalises If-None-Exist criteria ("identifier=sys|v",
// with an optional "Type?" prefix) so equal criteria claim the same key.
func NormalizeCriteria(typ, criteria string) (string, error) {
	c := strings.TrimSpace(criteria)
	c = strings.TrimPrefix(c, typ+"?")
	c = strings.TrimPrefix(c, "?")
	if c == "" {
		return "", workitem.Errorf(workitem.Invalid, "If-None-Exist is empty")
	}
	if strings.Contains(c, "&") {
		return "", workitem.Errorf(workitem.Invalid, "If-None-Exist: only one search parameter (identifier or _id) is supported")
	}
	name, value, ok := strings.Cut(c, "=")
	if !ok || value == "" {
		return "", workitem.Errorf(workitem.Invalid, "If-None-Exist %q is not name=value", c)
	}
	if name != "identifier" && name != "_id" {
		return "", workitem.Errorf(workitem.Invalid, "If-None-Exist: unsupported search parameter %q (supported: identifier, _id)", name)
	}
	return name + "=" + value, nil
}
