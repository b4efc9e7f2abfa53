package fhir

import (
	"strings"

	apb "github.com/google/fhir/go/proto/google/fhir/proto/annotations_go_proto"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// enumCode returns the FHIR code of an enum value: its fhir_original_code
// annotation when set, else the lower-cased name with '_' as '-'.
func enumCode(ev protoreflect.EnumValueDescriptor) string {
	if orig, _ := proto.GetExtension(ev.Options(), apb.E_FhirOriginalCode).(string); orig != "" {
		return orig
	}
	return strings.ReplaceAll(strings.ToLower(string(ev.Name())), "_", "-")
}

// codeOf returns the FHIR code string held by any google/fhir code message
// (a message with a "value" field that is an enum or a string), or "".
func codeOf(msg proto.Message) string {
	if msg == nil {
		return ""
	}
	m := msg.ProtoReflect()
	if !m.IsValid() {
		return ""
	}
	fd := m.Descriptor().Fields().ByName("value")
	if fd == nil {
		return ""
	}
	switch fd.Kind() {
	case protoreflect.StringKind:
		return m.Get(fd).String()
	case protoreflect.EnumKind:
		n := m.Get(fd).Enum()
		if n == 0 {
			return ""
		}
		if ev := fd.Enum().Values().ByNumber(n); ev != nil {
			return enumCode(ev)
		}
	}
	return ""
}
