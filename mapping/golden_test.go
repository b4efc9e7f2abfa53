package mapping_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// update rewrites the golden files instead of comparing against them.
var update = flag.Bool("update", false, "rewrite testdata/fhir/golden from the current output")

const (
	examplesDir = "../testdata/fhir/r4-examples"
	goldenDir   = "../testdata/fhir/golden"
)

// goldenNow is the fixed clock work item priorities are computed at.
var goldenNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// expectedReject lists the official R4 examples of supported types that the
// validating parser rejects, with a fragment of the reason it gives. The
// test asserts they keep being rejected for that reason.
var expectedReject = map[string]string{}

// golden is what one example's golden file records.
type golden struct {
	Type        string
	ID          string
	EncounterID string
	PatientID   string
	Identifiers []workitem.Identifier
	Summary     json.RawMessage
	// Derived is the work item chart of an Encounter (over the Encounter,
	// and the example Conditions and Procedures that point to it).
	Derived *mapping.Derived `json:",omitempty"`
}

// example is one parsed and prepared official example.
type example struct {
	file  string
	write workitem.ResourceWrite
}

// loadExamples parses and prepares every supported-type example, returning
// the prepared ones and the parse or Prepare errors by file name.
func loadExamples(tb testing.TB) ([]example, map[string]error) {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(examplesDir, "*.json"))
	if err != nil {
		tb.Fatal(err)
	}
	if len(files) == 0 {
		tb.Fatalf("no examples in %s", examplesDir)
	}
	p, err := fhir.NewParser()
	if err != nil {
		tb.Fatal(err)
	}
	var out []example
	failed := map[string]error{}
	for _, f := range files {
		name := filepath.Base(f)
		typ, _, _ := strings.Cut(name, "-")
		if !mapping.IsSupported(typ) {
			continue
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		res, err := p.Parse(raw)
		if err != nil {
			failed[name] = err
			continue
		}
		id := res.ID
		if id == "" {
			id = "example"
		}
		w, err := mapping.Prepare(res, id, "PUT")
		if err != nil {
			failed[name] = err
			continue
		}
		out = append(out, example{file: name, write: w})
	}
	return out, failed
}

// chartSources returns the Sources of an Encounter's work item among the
// examples: the Encounter and the Conditions and Procedures whose encounter
// reference names it.
func chartSources(enc workitem.ResourceWrite, all []example) []mapping.Source {
	srcs := []mapping.Source{{Type: enc.Type, ID: enc.ID, Version: 1, Summary: enc.Summary}}
	for _, e := range all {
		w := e.write
		if (w.Type == "Condition" || w.Type == "Procedure") && w.EncounterID == enc.ID {
			srcs = append(srcs, mapping.Source{Type: w.Type, ID: w.ID, Version: 1, Summary: w.Summary})
		}
	}
	return srcs
}

func TestGoldenExamples(t *testing.T) {
	examples, failed := loadExamples(t)
	for _, ex := range examples {
		t.Run(ex.file, func(t *testing.T) {
			w := ex.write
			g := golden{Type: w.Type, ID: w.ID, EncounterID: w.EncounterID, PatientID: w.PatientID,
				Identifiers: w.Identifiers, Summary: w.Summary}
			if w.Type == "Encounter" {
				d, err := mapping.BuildChart(chartSources(w, examples), goldenNow)
				if err != nil {
					t.Fatalf("BuildChart: %v", err)
				}
				g.Derived = &d
			}
			got, err := json.MarshalIndent(g, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join(goldenDir, ex.file)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./mapping/... -update)", err)
			}
			if bytes.Equal(want, got) {
				return
			}
			if diff := cmp.Diff(decode(t, want), decode(t, got)); diff != "" {
				t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
			}
		})
	}
	t.Run("expected-reject", func(t *testing.T) {
		for name, reason := range expectedReject {
			err, ok := failed[name]
			switch {
			case !ok:
				t.Errorf("%s: now accepted; it was expected to be rejected with %q", name, reason)
			case !strings.Contains(err.Error(), reason):
				t.Errorf("%s: rejected with %v, want a reason containing %q", name, err, reason)
			}
		}
		var unexpected []string
		for name, err := range failed {
			if _, ok := expectedReject[name]; !ok {
				unexpected = append(unexpected, name+": "+err.Error())
			}
		}
		sort.Strings(unexpected)
		for _, u := range unexpected {
			t.Errorf("unexpected rejection of %s", u)
		}
	})
}

// decode reads golden JSON generically, for a readable structural diff.
func decode(tb testing.TB, b []byte) any {
	tb.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		tb.Fatalf("golden is not JSON: %v", err)
	}
	return v
}
