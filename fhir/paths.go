package fhir

import (
	"strings"
	"sync"

	"google.golang.org/protobuf/reflect/protoreflect"

	r4pb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/bundle_and_contained_resource_go_proto"
)

// resourceTypes maps both the resource type name ("DocumentReference") and
// the ContainedResource field's JSON name ("documentReference") to the
// resource's message descriptor.
var resourceTypes = sync.OnceValue(func() map[string]protoreflect.MessageDescriptor {
	out := map[string]protoreflect.MessageDescriptor{}
	fds := (&r4pb.ContainedResource{}).ProtoReflect().Descriptor().Oneofs().ByName("oneof_resource").Fields()
	for i := 0; i < fds.Len(); i++ {
		md := fds.Get(i).Message()
		out[string(md.Name())] = md
		out[fds.Get(i).JSONName()] = md
	}
	return out
})

// normalizePath turns a google/fhir error path into a FHIRPath: it drops the
// resource-type segments google inserts under Bundle.entry.resource and
// contained (e.g. ".Condition" or ".condition"), and joins choice elements
// the validator reports as "onset.age" into "onsetAge".
func normalizePath(p string) string {
	if p == "" {
		return ""
	}
	segs := strings.Split(p, ".")
	md := resourceTypes()[segs[0]]
	out := []string{segs[0]}
	for i := 1; i < len(segs); i++ {
		seg := segs[i]
		name, idx := splitIndex(seg)
		if isResourceHolder(md, out) {
			if rmd, ok := resourceTypes()[name]; ok {
				md = rmd
				continue
			}
		}
		if md == nil {
			out = append(out, seg)
			continue
		}
		fd := fieldByJSONName(md, name)
		if fd == nil || fd.Message() == nil {
			md = nil
			out = append(out, seg)
			continue
		}
		md = fd.Message()
		if choice := md.Oneofs().ByName("choice"); choice != nil && i+1 < len(segs) {
			if cfd := fieldByJSONName(md, segs[i+1]); cfd != nil {
				i++
				seg = name + upperFirst(cfd.JSONName()) + idx
				md = cfd.Message()
			}
		}
		out = append(out, seg)
	}
	return strings.Join(out, ".")
}

// isResourceHolder reports whether the element just appended holds whole
// resources (Bundle.entry.resource, contained, response.outcome).
func isResourceHolder(md protoreflect.MessageDescriptor, out []string) bool {
	if md != nil {
		return md.Name() == "ContainedResource" || md.FullName() == "google.protobuf.Any"
	}
	last, _ := splitIndex(out[len(out)-1])
	return last == "resource" || last == "contained" || last == "outcome"
}

// fieldByJSONName finds a field by its FHIR JSON name.
func fieldByJSONName(md protoreflect.MessageDescriptor, name string) protoreflect.FieldDescriptor {
	fds := md.Fields()
	if fd := fds.ByJSONName(name); fd != nil {
		return fd
	}
	return fds.ByName(protoreflect.Name(name))
}

// splitIndex splits "entry[3]" into "entry" and "[3]".
func splitIndex(seg string) (name, idx string) {
	if i := strings.IndexByte(seg, '['); i >= 0 {
		return seg[:i], seg[i:]
	}
	return seg, ""
}

// upperFirst upper-cases the first ASCII letter of s.
func upperFirst(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
