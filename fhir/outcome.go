package fhir

import (
	"encoding/json"
	"strings"
	"sync"

	"github.com/google/fhir/go/fhirversion"
	"github.com/google/fhir/go/jsonformat"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	c4pb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/codes_go_proto"
	d4pb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/datatypes_go_proto"
	r4outcomepb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/resources/operation_outcome_go_proto"
)

// marshaller is the package's compact R4 Marshaller, built on first use.
var marshaller = sync.OnceValues(func() (*jsonformat.Marshaller, error) {
	return jsonformat.NewMarshaller(false, "", "", fhirversion.R4)
})

// Marshal renders an R4 resource proto (concrete, e.g. *r4claimpb.Claim, or a
// ContainedResource) as compact FHIR JSON.
func Marshal(msg proto.Message) ([]byte, error) {
	m, err := marshaller()
	if err != nil {
		return nil, err
	}
	return (&Parser{m: m}).Marshal(msg)
}

// OperationOutcome renders issues as R4 OperationOutcome JSON. With no issues
// it reports a single informational "ok". Unknown severities become "error"
// and unknown codes "processing", so the output always re-parses as valid R4.
func OperationOutcome(issues ...Issue) []byte {
	oo := &r4outcomepb.OperationOutcome{}
	if len(issues) == 0 {
		issues = []Issue{NewIssue(SeverityInformation, IssueInformational, "ok")}
	}
	for _, iss := range issues {
		oo.Issue = append(oo.Issue, outcomeIssue(iss))
	}
	b, err := Marshal(oo)
	if err != nil {
		return fallbackOutcome(issues)
	}
	return b
}

// outcomeIssue converts an Issue to its proto form.
func outcomeIssue(iss Issue) *r4outcomepb.OperationOutcome_Issue {
	sev := c4pb.IssueSeverityCode_ERROR
	if n, ok := enumByCode(sev.Descriptor(), iss.Severity); ok {
		sev = c4pb.IssueSeverityCode_Value(n)
	}
	code := c4pb.IssueTypeCode_PROCESSING
	if n, ok := enumByCode(code.Descriptor(), iss.Code); ok {
		code = c4pb.IssueTypeCode_Value(n)
	}
	out := &r4outcomepb.OperationOutcome_Issue{
		Severity: &r4outcomepb.OperationOutcome_Issue_SeverityCode{Value: sev},
		Code:     &r4outcomepb.OperationOutcome_Issue_CodeType{Value: code},
	}
	if d := cleanString(iss.Diagnostics); d != "" {
		out.Diagnostics = &d4pb.String{Value: d}
	}
	for _, e := range iss.Expression {
		if e = cleanString(e); e != "" {
			out.Expression = append(out.Expression, &d4pb.String{Value: e})
		}
	}
	return out
}

// enumByCode finds the enum number of a FHIR code such as "code-invalid".
func enumByCode(ed protoreflect.EnumDescriptor, code string) (protoreflect.EnumNumber, bool) {
	if code == "" {
		return 0, false
	}
	name := strings.ToUpper(strings.ReplaceAll(code, "-", "_"))
	v := ed.Values().ByName(protoreflect.Name(name))
	if v == nil || v.Number() == 0 || enumCode(v) != code {
		return 0, false
	}
	return v.Number(), true
}

// fallbackOutcome hand-builds an OperationOutcome if marshalling fails.
func fallbackOutcome(issues []Issue) []byte {
	type issue struct {
		Severity    string `json:"severity"`
		Code        string `json:"code"`
		Diagnostics string `json:"diagnostics,omitempty"`
	}
	oo := struct {
		ResourceType string  `json:"resourceType"`
		Issue        []issue `json:"issue"`
	}{ResourceType: "OperationOutcome"}
	for _, iss := range issues {
		oo.Issue = append(oo.Issue, issue{SeverityError, IssueException, iss.Diagnostics})
	}
	b, _ := json.Marshal(oo)
	return b
}

// OperationOutcomeFor renders err as an OperationOutcome: the issues of a
// *Error, or a single generic "exception" issue otherwise.
func OperationOutcomeFor(err error) []byte {
	if e, ok := AsError(err); ok {
		return OperationOutcome(e.Issues...)
	}
	return OperationOutcome(NewIssue(SeverityError, IssueException, "internal error"))
}

// cleanString makes s a valid FHIR string: valid UTF-8, no control
// characters other than tab, CR and LF, no surrounding whitespace.
func cleanString(s string) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' && r != '\r' && r != '\n' || r == 0x7f {
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}
