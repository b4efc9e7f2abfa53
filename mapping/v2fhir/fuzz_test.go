package v2fhir_test

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping"
	"github.com/codebridge/codebridge/mapping/hl7v2"
	"github.com/codebridge/codebridge/mapping/v2fhir"
)

// fhirCheck makes FuzzMap validate every Bundle with the FHIR parser while
// fuzzing too. It is off by default because google/fhir under the fuzzer's
// coverage instrumentation runs at about one input per second.
var fhirCheck = flag.Bool("fhircheck", false, "FuzzMap: parse and plan every Bundle also under -fuzz (slow)")

// FuzzMap maps whatever hl7v2.Parse accepts. Map must never panic; it
// either refuses with a *v2fhir.Error that locates at least one problem,
// or returns a Bundle of PUT entries whose urls match their resources and
// whose ids are legal, that the validating parser and PlanBundle accept
// (with and without a prior Encounter), so an accepted message can never
// fail later in the FHIR path. The FHIR validation runs for the seed corpus
// and, while fuzzing, only with -fhircheck.
func FuzzMap(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.hl7"))
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add(visit("ADT", "A03", "I", admit, "", seg("DG1", 1, "1", 3, "J20.9^x^I10", 15, "1"), seg("PR1", 1, "1", 3, "99213", 5, "2025")))
	f.Add(message("DFT", "P03", "2.5.1", pidSeg, seg("PV1", 2, "O", 19, "V1"),
		seg("FT1", 2, "T\\F\\1", 4, "20250314", 6, "CD", 10, "-1.5", 19, "J20.9^^I10~I10^^I10", 25, "99213", 26, "25~GT")))
	p, err := fhir.NewParser()
	if err != nil {
		f.Fatal(err)
	}
	prior := &v2fhir.Prior{Status: "finished", Start: time.Date(2025, 3, 14, 8, 0, 0, 0, time.UTC), End: time.Date(2025, 3, 15, 8, 0, 0, 0, time.UTC),
		Diagnoses: []fhir.Diagnosis{{Condition: "Condition/c1", Rank: 1}}}
	validate := *fhirCheck || !fuzzing()
	f.Fuzz(func(t *testing.T, raw []byte) {
		msg, err := hl7v2.Parse(raw)
		if err != nil {
			return
		}
		for _, pr := range []*v2fhir.Prior{nil, prior} {
			res, err := v2fhir.Map(msg, opts, pr)
			if err != nil {
				var e *v2fhir.Error
				if !errors.As(err, &e) || len(e.Details) == 0 {
					t.Fatalf("Map error %v is not a located *v2fhir.Error", err)
				}
				return
			}
			checkEntries(t, res)
			if !validate {
				continue
			}
			b, err := p.ParseBundle(res.Bundle)
			if err != nil {
				t.Fatalf("Bundle does not parse: %v\n%s", err, res.Bundle)
			}
			if _, err := mapping.PlanBundle(b, func() string { return "new" }); err != nil {
				t.Fatalf("Bundle does not plan: %v\n%s", err, res.Bundle)
			}
			if id, err := v2fhir.EncounterID(msg, opts); err != nil || id != res.EncounterID {
				t.Fatalf("EncounterID = %q, %v; Map said %q", id, err, res.EncounterID)
			}
		}
	})
}

// fuzzing reports whether the test runs under -fuzz: in the coordinator
// (test.fuzz set) or in a worker process (test.fuzzworker).
func fuzzing() bool {
	for _, name := range []string{"test.fuzz", "test.fuzzworker"} {
		if fl := flag.Lookup(name); fl != nil && fl.Value.String() != "" && fl.Value.String() != "false" {
			return true
		}
	}
	return false
}

// fhirID is the FHIR id pattern.
var fhirID = regexp.MustCompile(`^[A-Za-z0-9\-.]{1,64}$`)

// checkEntries checks the Bundle's shape without the FHIR parser: JSON,
// PUT entries whose url is the resource's Type/id, legal ids.
func checkEntries(t *testing.T, res *v2fhir.Result) {
	var b struct {
		Entry []struct {
			Resource struct{ ResourceType, ID string }
			Request  struct{ Method, URL string }
		}
	}
	if err := json.Unmarshal(res.Bundle, &b); err != nil {
		t.Fatalf("Bundle is not JSON: %v", err)
	}
	if len(b.Entry) != res.Entries || res.Entries == 0 {
		t.Fatalf("%d entries, Result.Entries %d", len(b.Entry), res.Entries)
	}
	for _, e := range b.Entry {
		r := e.Resource
		if e.Request.Method != "PUT" || e.Request.URL != r.ResourceType+"/"+r.ID || !fhirID.MatchString(r.ID) {
			t.Fatalf("entry %s %s for %s/%s", e.Request.Method, e.Request.URL, r.ResourceType, r.ID)
		}
	}
}
