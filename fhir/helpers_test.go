package fhir

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	d4pb "github.com/google/fhir/go/proto/google/fhir/proto/r4/core/datatypes_go_proto"
)

var (
	testParserOnce sync.Once
	testParser     *Parser
	testParserErr  error
)

// parser returns one shared Parser for the tests.
func parser(tb testing.TB) *Parser {
	tb.Helper()
	testParserOnce.Do(func() { testParser, testParserErr = NewParser() })
	if testParserErr != nil {
		tb.Fatalf("NewParser: %v", testParserErr)
	}
	return testParser
}

// example reads an official R4 example copied under testdata.
func example(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "fhir", "r4-examples", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// mustParse parses an example and fails the test on error.
func mustParse(tb testing.TB, name string) *Resource {
	tb.Helper()
	res, err := parser(tb).Parse(example(tb, name))
	if err != nil {
		tb.Fatalf("Parse(%s): %v", name, err)
	}
	return res
}

// normalizeRefs puts every Reference in msg into google/fhir's normal form
// (typed ids), which the unmarshaller applies at top level but not always
// inside Bundle entries.
func normalizeRefs(tb testing.TB, msg proto.Message) proto.Message {
	tb.Helper()
	msg = proto.Clone(msg)
	err := walkReferences(msg.ProtoReflect(), func(ref *d4pb.Reference) (bool, error) {
		if s := ReferenceString(ref); s != "" && ref.GetUri() != nil {
			return true, SetReference(ref, s)
		}
		return false, nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return msg
}

// fixedTime is an arbitrary instant for meta tests.
var fixedTime = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
