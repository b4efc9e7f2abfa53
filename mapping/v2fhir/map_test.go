package v2fhir_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping"
	"github.com/codebridge/codebridge/mapping/hl7v2"
	"github.com/codebridge/codebridge/mapping/v2fhir"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// update rewrites the golden Bundles instead of comparing against them.
var update = flag.Bool("update", false, "rewrite testdata/golden from the current output")

// opts are the options of every test: the built-in alias table, UTC.
var opts = v2fhir.Options{Aliases: v2fhir.DefaultAliases()}

var (
	parserOnce sync.Once
	parser     *fhir.Parser
	parserErr  error
)

// fhirParser returns one shared validating parser.
func fhirParser(tb testing.TB) *fhir.Parser {
	tb.Helper()
	parserOnce.Do(func() { parser, parserErr = fhir.NewParser() })
	if parserErr != nil {
		tb.Fatal(parserErr)
	}
	return parser
}

// readMessage reads testdata/name.hl7.
func readMessage(tb testing.TB, name string) []byte {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name+".hl7"))
	if err != nil {
		tb.Fatal(err)
	}
	return raw
}

// parse parses an HL7 v2 message.
func parse(tb testing.TB, raw []byte) *hl7v2.Message {
	tb.Helper()
	msg, err := hl7v2.Parse(raw)
	if err != nil {
		tb.Fatalf("hl7v2.Parse: %v", err)
	}
	return msg
}

// plan runs a Bundle through the POST /fhir path short of the store: the
// validating parse and mapping.PlanBundle. It fails the test on any error
// and returns the prepared writes.
func plan(tb testing.TB, raw []byte) []workitem.ResourceWrite {
	tb.Helper()
	b, err := fhirParser(tb).ParseBundle(raw)
	if err != nil {
		tb.Fatalf("ParseBundle: %v\n%s", err, raw)
	}
	plans, err := mapping.PlanBundle(b, func() string { tb.Fatal("a PUT-only Bundle asked for a new id"); return "" })
	if err != nil {
		tb.Fatalf("PlanBundle: %v", err)
	}
	var ws []workitem.ResourceWrite
	for _, p := range plans {
		if p.Write == nil {
			tb.Fatalf("entry %d not written: %s %v", p.Index, p.Skipped, p.Err)
		}
		ws = append(ws, *p.Write)
	}
	return ws
}

// TestMapGolden maps each sample message (no prior Encounter), compares
// the Bundle with its golden file, and checks that it parses, plans with
// every entry written, and maps to the same bytes twice.
func TestMapGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.hl7"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample messages: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".hl7")
		t.Run(name, func(t *testing.T) {
			msg := parse(t, readMessage(t, name))
			res, err := v2fhir.Map(msg, opts, nil)
			if err != nil {
				t.Fatalf("Map: %v", err)
			}
			if again, _ := v2fhir.Map(msg, opts, nil); !bytes.Equal(again.Bundle, res.Bundle) {
				t.Error("mapping the same message twice gave different bytes")
			}
			if ws := plan(t, res.Bundle); len(ws) != res.Entries {
				t.Errorf("planned %d writes, Result.Entries = %d", len(ws), res.Entries)
			}
			compareGolden(t, filepath.Join("testdata", "golden", name+".json"), res)
		})
	}
}

// compareGolden compares res (Bundle indented, plus its ids and event)
// with a golden file, or rewrites it under -update.
func compareGolden(t *testing.T, path string, res *v2fhir.Result) {
	t.Helper()
	var b bytes.Buffer
	fmt.Fprintf(&b, "{\"event\":%q,\"encounter\":%q,\"patient\":%q,\"bundle\":", res.Event, res.EncounterID, res.PatientID)
	b.Write(res.Bundle)
	b.WriteString("}")
	var got bytes.Buffer
	if err := json.Indent(&got, b.Bytes(), "", "  "); err != nil {
		t.Fatal(err)
	}
	got.WriteByte('\n')
	if *update {
		if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./mapping/v2fhir/ -update)", err)
	}
	if !bytes.Equal(want, got.Bytes()) {
		t.Errorf("%s mismatch (-want +got):\n%s", path, cmp.Diff(string(want), got.String()))
	}
}

// TestMapIgnoresControlIDAndTime: a re-sent message (new MSH-10, MSH-7,
// EVN-2) maps to byte-identical Bundles, so the store makes no new version.
func TestMapIgnoresControlIDAndTime(t *testing.T) {
	raw := readMessage(t, "adt-a03")
	resent := bytes.Replace(raw, []byte("|CB0003|"), []byte("|RESEND-77|"), 1)
	resent = bytes.ReplaceAll(resent, []byte("MSH|^~\\&|ADTSYS|CBHOSP|CODEBRIDGE|CBFAC|20250317114500-0500"), []byte("MSH|^~\\&|ADTSYS|CBHOSP|CODEBRIDGE|CBFAC|20250401000000-0500"))
	resent = bytes.Replace(resent, []byte("EVN|A03|20250317114500-0500"), []byte("EVN|A03|20250401000000-0500"), 1)
	if bytes.Equal(raw, resent) {
		t.Fatal("the re-sent message is unchanged: the test edits missed")
	}
	a, err := v2fhir.Map(parse(t, raw), opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := v2fhir.Map(parse(t, resent), opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bundle, b.Bundle) {
		t.Errorf("re-sent message maps differently:\n%s", cmp.Diff(string(a.Bundle), string(b.Bundle)))
	}
}
