package v2ingest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping/hl7v2"
	"github.com/codebridge/codebridge/mapping/ingest"
	"github.com/codebridge/codebridge/mapping/v2fhir"
)

var (
	parserOnce sync.Once
	parser     *fhir.Parser
	parserErr  error
)

// testParser returns the one validating FHIR parser of the tests.
func testParser(t testing.TB) *fhir.Parser {
	t.Helper()
	parserOnce.Do(func() { parser, parserErr = fhir.NewParser() })
	if parserErr != nil {
		t.Fatal(parserErr)
	}
	return parser
}

// newService returns the use case on f, wired as cmd wires it (default
// aliases, metrics in a registry of their own); edit, when set, changes
// its options first.
func newService(t testing.TB, f *fakeStore, edit func(*Options)) *Service {
	t.Helper()
	p := testParser(t)
	o := Options{
		Ingest:  &ingest.Service{Parser: p, Store: f},
		Store:   f,
		Parser:  p,
		Mapping: v2fhir.Options{Aliases: v2fhir.DefaultAliases()},
		Metrics: NewMetrics(prometheus.NewRegistry()),
	}
	if edit != nil {
		edit(&o)
	}
	return New(o)
}

// sample reads a synthetic message from testdata/hl7v2.
func sample(t testing.TB, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "hl7v2", name))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// parseACK parses one answer frame.
func parseACK(t testing.TB, frame []byte) *hl7v2.Message {
	t.Helper()
	a, err := hl7v2.Parse(frame)
	if err != nil {
		t.Fatalf("ACK does not parse: %v\n%q", err, frame)
	}
	return a
}

// ackOf is the application ACK of Handle's answer (its last frame) as
// "AA", or as the code and the first ERR ("AE PV1-19 101"); "" when there
// is no answer.
func ackOf(t testing.TB, frames [][]byte) string {
	t.Helper()
	if len(frames) == 0 {
		return ""
	}
	a := parseACK(t, frames[len(frames)-1])
	if code := a.First("MSA").Value(1, 1); code != "AA" {
		return code + " " + errAt(a)
	}
	return "AA"
}

// errAt is the ACK's first ERR as "segment-field code" (ERR-2.1, ERR-2.3, ERR-3.1).
func errAt(ack *hl7v2.Message) string {
	e := ack.First("ERR")
	return e.Get("2.1") + "-" + e.Get("2.3") + " " + e.Get("3.1")
}

// storedJSON decodes the current version of Type/id in f.
func storedJSON(t testing.TB, f *fakeStore, typ, id string) (map[string]any, int) {
	t.Helper()
	v, raw := f.version(typ, id)
	if v == 0 {
		t.Fatalf("%s/%s not stored", typ, id)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out, v
}
