package fhir

import (
	"fmt"
	"regexp"
	"strings"
	"sync"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/google/fhir/go/jsonformat"
	d4pb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/datatypes_go_proto"
)

// Reference is a parsed literal reference (Reference.reference).
type Reference struct {
	// Type is the resource type ("Encounter"); "" for urn: and fragment references.
	Type string
	// ID is the logical id; "" for urn: and fragment references.
	ID string
	// Version is the _history version id, or "".
	Version string
	// Base is the service base URL of an absolute reference
	// ("https://ehr.example/fhir"), or "".
	Base string
	// URN is the full "urn:uuid:..." or "urn:oid:..." reference, or "".
	URN string
	// Fragment is the contained-resource id of a "#id" reference, or "".
	Fragment string
}

// idPattern is the R4 id datatype.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)

// ParseReference parses a literal reference: "Encounter/123", an absolute
// URL ending in Type/id, either with an optional "/_history/vid" suffix,
// "urn:uuid:..." / "urn:oid:..." or "#contained-id".
func ParseReference(s string) (Reference, error) {
	switch {
	case strings.HasPrefix(s, "urn:uuid:") || strings.HasPrefix(s, "urn:oid:"):
		rest := s[strings.LastIndexByte(s, ':')+1:]
		if rest == "" || strings.ContainsAny(s, " /") {
			return Reference{}, fmt.Errorf("fhir.ParseReference: malformed urn")
		}
		return Reference{URN: s}, nil
	case strings.HasPrefix(s, "#"):
		if !idPattern.MatchString(s[1:]) {
			return Reference{}, fmt.Errorf("fhir.ParseReference: malformed fragment")
		}
		return Reference{Fragment: s[1:]}, nil
	}
	parts := strings.Split(s, "/")
	var r Reference
	if n := len(parts); n >= 4 && parts[n-2] == "_history" {
		r.Version = parts[n-1]
		parts = parts[:n-2]
		if !idPattern.MatchString(r.Version) {
			return Reference{}, fmt.Errorf("fhir.ParseReference: malformed version")
		}
	}
	n := len(parts)
	if n < 2 {
		return Reference{}, fmt.Errorf("fhir.ParseReference: not Type/id")
	}
	r.Type, r.ID = parts[n-2], parts[n-1]
	if _, ok := resourceTypes()[r.Type]; !ok || !isUpper(r.Type) || !idPattern.MatchString(r.ID) {
		return Reference{}, fmt.Errorf("fhir.ParseReference: not Type/id")
	}
	if n > 2 {
		r.Base = strings.Join(parts[:n-2], "/")
		if !strings.HasPrefix(r.Base, "http://") && !strings.HasPrefix(r.Base, "https://") {
			return Reference{}, fmt.Errorf("fhir.ParseReference: relative path is not a base URL")
		}
	}
	return r, nil
}

// isUpper reports whether s starts with an upper-case ASCII letter.
func isUpper(s string) bool { return s != "" && s[0] >= 'A' && s[0] <= 'Z' }

// Relative returns "Type/id" (with "/_history/vid" when versioned), or the
// URN or "#fragment" for those kinds.
func (r Reference) Relative() string {
	switch {
	case r.URN != "":
		return r.URN
	case r.Fragment != "":
		return "#" + r.Fragment
	case r.Version != "":
		return r.Type + "/" + r.ID + "/_history/" + r.Version
	}
	return r.Type + "/" + r.ID
}

// String returns the reference as written, including any base URL.
func (r Reference) String() string {
	if r.Base != "" {
		return r.Base + "/" + r.Relative()
	}
	return r.Relative()
}

// refFieldTypes maps Reference oneof field names ("patient_id") to resource
// types ("Patient").
var refFieldTypes = sync.OnceValue(func() map[protoreflect.Name]string {
	out := map[protoreflect.Name]string{}
	fds := (&d4pb.Reference{}).ProtoReflect().Descriptor().Oneofs().ByName("reference").Fields()
	for i := 0; i < fds.Len(); i++ {
		name := string(fds.Get(i).Name())
		base, ok := strings.CutSuffix(name, "_id")
		if t, known := snakeToType(base); ok && known {
			out[fds.Get(i).Name()] = t
		}
	}
	return out
})

// snakeToType finds the resource type whose ContainedResource field is snake.
func snakeToType(snake string) (string, bool) {
	parts := strings.Split(snake, "_")
	for i, p := range parts {
		if i > 0 {
			parts[i] = upperFirst(p)
		}
	}
	md, ok := resourceTypes()[strings.Join(parts, "")]
	if !ok {
		return "", false
	}
	return string(md.Name()), true
}

// ReferenceString returns the literal reference held by ref ("Patient/1",
// "Patient/1/_history/2", an absolute URL, "urn:uuid:..." or "#id"), or ""
// when ref has only an identifier or display.
func ReferenceString(ref *d4pb.Reference) string {
	if ref == nil {
		return ""
	}
	if u := ref.GetUri(); u != nil {
		return u.GetValue()
	}
	if f := ref.GetFragment(); f != nil {
		return "#" + f.GetValue()
	}
	m := ref.ProtoReflect()
	fd := m.WhichOneof(m.Descriptor().Oneofs().ByName("reference"))
	if fd == nil {
		return ""
	}
	t, ok := refFieldTypes()[fd.Name()]
	id, _ := m.Get(fd).Message().Interface().(*d4pb.ReferenceId)
	if !ok || id == nil {
		return ""
	}
	s := t + "/" + id.GetValue()
	if h := id.GetHistory().GetValue(); h != "" {
		s += "/_history/" + h
	}
	return s
}

// SetReference replaces ref's literal reference with s, normalised the way
// the google/fhir unmarshaller does (typed ids for "Type/id").
func SetReference(ref *d4pb.Reference, s string) error {
	ref.Reference = &d4pb.Reference_Uri{Uri: &d4pb.String{Value: s}}
	return jsonformat.NormalizeReference(ref)
}

// References lists every literal reference in msg, contained resources
// included, in field order.
func References(msg proto.Message) []string {
	var out []string
	_ = walkReferences(msg.ProtoReflect(), func(ref *d4pb.Reference) (bool, error) {
		if s := ReferenceString(ref); s != "" {
			out = append(out, s)
		}
		return false, nil
	})
	return out
}

// RewriteReferences calls fn with every literal reference in msg (contained
// resources included); where fn returns (new, true) the reference becomes new.
// Use it to turn transaction urn:uuid fullUrls into stored "Type/id"s.
func RewriteReferences(msg proto.Message, fn func(ref string) (string, bool)) error {
	return walkReferences(msg.ProtoReflect(), func(ref *d4pb.Reference) (bool, error) {
		old := ReferenceString(ref)
		if old == "" {
			return false, nil
		}
		s, ok := fn(old)
		if !ok || s == old {
			return false, nil
		}
		return true, SetReference(ref, s)
	})
}
