package fhir

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/google/fhir/go/fhirversion"
	"github.com/google/fhir/go/jsonformat"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	r4pb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/bundle_and_contained_resource_go_proto"
)

// maxNestingDepth bounds how deeply nested an element path may be; it keeps
// hostile input from driving the recursive unmarshaller arbitrarily deep.
const maxNestingDepth = 64

// Parser parses and validates FHIR R4 JSON and marshals R4 protos back to JSON.
//
// A Parser is built once with NewParser and is safe for concurrent use: the
// google/fhir Unmarshaller keeps no per-call state (each call makes its own
// error reporter) and the non-analytics Marshaller never touches its depth map.
type Parser struct {
	um *jsonformat.Unmarshaller
	m  *jsonformat.Marshaller
}

// Resource is one parsed FHIR resource.
type Resource struct {
	// Type is the resourceType, e.g. "Encounter".
	Type string
	// ID is the logical id, or "" when the resource has none.
	ID string
	// Msg is the concrete resource proto, e.g. *r4encounterpb.Encounter
	// (never the ContainedResource wrapper); use a type switch on it.
	Msg proto.Message
	// Raw is the resource's JSON exactly as received.
	Raw []byte
}

// NewParser builds the validating R4 Unmarshaller and a compact Marshaller.
func NewParser() (*Parser, error) {
	um, err := jsonformat.NewUnmarshaller("UTC", fhirversion.R4)
	if err != nil {
		return nil, fmt.Errorf("fhir.NewParser: %w", err)
	}
	um.MaxNestingDepth = maxNestingDepth
	m, err := jsonformat.NewMarshaller(false, "", "", fhirversion.R4)
	if err != nil {
		return nil, fmt.Errorf("fhir.NewParser: %w", err)
	}
	return &Parser{um: um, m: m}, nil
}

// Parse validates raw as any R4 resource and returns it parsed once.
// Failures are a *Error whose Status is 400 for unparseable input and 422 for
// JSON that is not a valid R4 resource.
func (p *Parser) Parse(raw []byte) (*Resource, error) {
	cr, err := p.parseContained(raw)
	if err != nil {
		return nil, err
	}
	msg := Unwrap(cr)
	if msg == nil {
		return nil, &Error{Status: http.StatusBadRequest, Issues: []Issue{
			NewIssue(SeverityError, IssueStructure, "no resource", "resourceType")}}
	}
	return &Resource{
		Type: string(msg.ProtoReflect().Descriptor().Name()),
		ID:   resourceID(msg),
		Msg:  msg,
		Raw:  raw,
	}, nil
}

// parseContained runs the validating unmarshaller and converts its errors.
func (p *Parser) parseContained(raw []byte) (*r4pb.ContainedResource, error) {
	rep := &reporter{}
	msg, err := p.um.UnmarshalWithErrorReporter(raw, rep)
	if err != nil {
		return nil, fromLibraryError(err, rep.issues)
	}
	if len(rep.issues) > 0 {
		return nil, newError(rep.issues)
	}
	cr, ok := msg.(*r4pb.ContainedResource)
	if !ok {
		return nil, fmt.Errorf("fhir.Parse: unexpected message %T", msg)
	}
	return cr, nil
}

// Marshal renders an R4 resource proto (concrete or ContainedResource) as
// compact FHIR JSON.
func (p *Parser) Marshal(msg proto.Message) ([]byte, error) {
	if msg == nil {
		return nil, fmt.Errorf("fhir.Marshal: nil message")
	}
	var (
		b   []byte
		err error
	)
	if _, ok := msg.(*r4pb.ContainedResource); ok {
		b, err = p.m.Marshal(msg)
	} else {
		b, err = p.m.MarshalResource(msg)
	}
	if err != nil {
		return nil, fmt.Errorf("fhir.Marshal(%s): %w", msg.ProtoReflect().Descriptor().Name(), err)
	}
	return b, nil
}

// Unwrap returns the concrete resource held by a ContainedResource, or nil
// when none is set.
func Unwrap(cr *r4pb.ContainedResource) proto.Message {
	if cr == nil {
		return nil
	}
	m := cr.ProtoReflect()
	fd := m.WhichOneof(m.Descriptor().Oneofs().ByName("oneof_resource"))
	if fd == nil {
		return nil
	}
	return m.Get(fd).Message().Interface()
}

// Wrap puts a concrete R4 resource into a ContainedResource.
func Wrap(msg proto.Message) (*r4pb.ContainedResource, error) {
	cr := &r4pb.ContainedResource{}
	m := cr.ProtoReflect()
	name := msg.ProtoReflect().Descriptor().FullName()
	fds := m.Descriptor().Oneofs().ByName("oneof_resource").Fields()
	for i := 0; i < fds.Len(); i++ {
		if fds.Get(i).Message().FullName() == name {
			m.Set(fds.Get(i), protoreflect.ValueOfMessage(msg.ProtoReflect()))
			return cr, nil
		}
	}
	return nil, fmt.Errorf("fhir.Wrap: %s is not an R4 resource", name)
}

// resourceID reads the id element of any resource proto.
func resourceID(msg proto.Message) string {
	m := msg.ProtoReflect()
	fd := m.Descriptor().Fields().ByName("id")
	if fd == nil || fd.Message() == nil || !m.Has(fd) {
		return ""
	}
	id := m.Get(fd).Message()
	vf := id.Descriptor().Fields().ByName("value")
	if vf == nil {
		return ""
	}
	return id.Get(vf).String()
}

// Sniff cheaply reads resourceType and id from raw JSON without validating
// it; use it for routing before the one validating Parse.
func Sniff(raw []byte) (resourceType, id string, err error) {
	var head struct {
		ResourceType string `json:"resourceType"`
		ID           string `json:"id"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return "", "", &Error{Status: http.StatusBadRequest, Issues: []Issue{
			NewIssue(SeverityError, IssueStructure, "body is not a JSON object: "+err.Error())}}
	}
	if head.ResourceType == "" {
		return "", "", &Error{Status: http.StatusBadRequest, Issues: []Issue{
			NewIssue(SeverityError, IssueRequired, "missing required field \"resourceType\"", "resourceType")}}
	}
	return head.ResourceType, head.ID, nil
}
