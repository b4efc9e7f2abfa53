package fhir

import (
	"fmt"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"

	d4pb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/datatypes_go_proto"
)

// refVisitor is called for each Reference; it reports whether it changed it.
type refVisitor func(ref *d4pb.Reference) (changed bool, err error)

var (
	referenceName = (&d4pb.Reference{}).ProtoReflect().Descriptor().FullName()
	anyName       = (&anypb.Any{}).ProtoReflect().Descriptor().FullName()
)

// walkReferences visits every Reference message under m, unpacking the
// google.protobuf.Any values google/fhir uses for contained resources (and
// re-packing them when a visit changed something).
func walkReferences(m protoreflect.Message, visit refVisitor) error {
	_, err := walkMsg(m, visit)
	return err
}

// walkMsg is walkReferences' recursion; it reports whether anything changed.
func walkMsg(m protoreflect.Message, visit refVisitor) (bool, error) {
	changed := false
	var err error
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Message() == nil {
			return true
		}
		if fd.IsList() {
			l := v.List()
			for i := 0; i < l.Len() && err == nil; i++ {
				var c bool
				c, err = walkValue(l.Get(i).Message(), visit)
				changed = changed || c
			}
			return err == nil
		}
		var c bool
		c, err = walkValue(v.Message(), visit)
		changed = changed || c
		return err == nil
	})
	return changed, err
}

// walkValue visits one message value: a Reference, an Any or anything else.
func walkValue(m protoreflect.Message, visit refVisitor) (bool, error) {
	switch m.Descriptor().FullName() {
	case referenceName:
		ref, ok := m.Interface().(*d4pb.Reference)
		if !ok {
			return false, nil
		}
		c1, err := visit(ref)
		if err != nil {
			return c1, err
		}
		c2, err := walkMsg(m, visit)
		return c1 || c2, err
	case anyName:
		return walkAny(m, visit)
	}
	return walkMsg(m, visit)
}

// walkAny unpacks an Any, walks it and re-packs it if it changed.
func walkAny(m protoreflect.Message, visit refVisitor) (bool, error) {
	a, ok := m.Interface().(*anypb.Any)
	if !ok {
		return false, nil
	}
	inner, err := a.UnmarshalNew()
	if err != nil {
		return false, nil // unknown type: nothing we can walk
	}
	changed, err := walkMsg(inner.ProtoReflect(), visit)
	if err != nil || !changed {
		return changed, err
	}
	if err := a.MarshalFrom(inner); err != nil {
		return true, fmt.Errorf("fhir: repack contained: %w", err)
	}
	return true, nil
}
