package bench

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping"
)

func testGenerator(t *testing.T, seed uint64, mix string) *generator {
	t.Helper()
	m, err := parseMix(mix)
	if err != nil {
		t.Fatal(err)
	}
	g, err := newGenerator(seed, "t", m)
	if err != nil {
		t.Fatalf("newGenerator: %v", err)
	}
	return g
}

// TestBenchBundlesParseAndPlan: every generated Bundle, single visits and
// preload batches, passes the validating parser and plans as a transaction,
// with the resources the issue asks for.
func TestBenchBundlesParseAndPlan(t *testing.T) {
	g := testGenerator(t, 7, "telehealth=40,office=30,ed=20,inpatient=10")
	p, err := fhir.NewParser()
	if err != nil {
		t.Fatal(err)
	}
	var ids int
	newID := func() string { ids++; return fmt.Sprintf("id%d", ids) }
	visits := make([]visit, 0, 201)
	for i := range int64(200) {
		visits = append(visits, g.Visit(i))
	}
	visits = append(visits, g.Batch(0, 12))
	providers, err := p.ParseBundle(g.Providers())
	if err != nil {
		t.Fatalf("provider directory does not parse: %v", err)
	}
	if plans, err := mapping.PlanBundle(providers, newID); err != nil || len(plans) != 9*(1+Clinicians) {
		t.Fatalf("provider directory: %d plans, %v; want %d", len(plans), err, 9*(1+Clinicians))
	}
	for i, v := range visits {
		b, err := p.ParseBundle(v.Body)
		if err != nil {
			t.Fatalf("Bundle %d (%s) does not parse: %v", i, v.Kind, err)
		}
		plans, err := mapping.PlanBundle(b, newID)
		if err != nil {
			t.Fatalf("Bundle %d (%s) does not plan: %v", i, v.Kind, err)
		}
		if len(plans) != v.Resources || len(b.Entries) != v.Resources {
			t.Fatalf("Bundle %d: %d plans, %d entries, want %d", i, len(plans), len(b.Entries), v.Resources)
		}
		for k, enc := range v.Encounters {
			checkVisit(t, fmt.Sprintf("Bundle %d visit %d", i, k), b, enc, v.Kinds[k])
		}
	}
}

// checkVisit checks the entries of the visit whose Encounter is entry
// enc: Patient, Coverage, Organization, Practitioner before it; 1-6
// Conditions, 0-4 Procedures (at least the E/M line outpatient) and one
// DocumentReference after it.
func checkVisit(t *testing.T, name string, b *fhir.Bundle, enc int, kind string) {
	t.Helper()
	var got []string
	for _, e := range b.Entries[enc-4 : enc+1] {
		got = append(got, e.Resource.Type)
	}
	if diff := cmp.Diff([]string{"Patient", "Coverage", "Organization", "Practitioner", "Encounter"}, got); diff != "" {
		t.Fatalf("%s: mismatch (-want +got):\n%s", name, diff)
	}
	counts := map[string]int{}
	pxSystems := map[string]bool{}
	for _, e := range b.Entries[enc+1:] {
		if e.Resource.Type == "Patient" {
			break
		}
		counts[e.Resource.Type]++
		if e.Resource.Type == "Procedure" {
			for _, s := range []string{fhir.SystemCPT, fhir.SystemHCPCS, fhir.SystemICD10PCS} {
				if bytes.Contains(e.Resource.Raw, []byte(`"`+s+`"`)) {
					pxSystems[s] = true
				}
			}
		}
	}
	minPx := 1
	if kind == inpatient {
		minPx = 0
	}
	if c, p := counts["Condition"], counts["Procedure"]; c < 1 || c > 6 || p < minPx || p > 4 || counts["DocumentReference"] != 1 {
		t.Errorf("%s (%s): %v", name, kind, counts)
	}
	if inpatient := kind == inpatient; counts["Procedure"] > 0 && pxSystems[fhir.SystemICD10PCS] != inpatient {
		t.Errorf("%s (%s): procedure systems %v", name, kind, pxSystems)
	}
	if !bytes.Contains(b.Entries[enc].Resource.Raw, []byte(`"code":"`+encounterClass[kind][0]+`"`)) {
		t.Errorf("%s: Encounter class is not %s", name, encounterClass[kind][0])
	}
}

// TestBenchMixHonoured: over 4,000 Bundles of a fixed seed, each kind's
// share is within 3 points of its weight (kindAt, checked against the
// Bundles themselves for the first 100).
func TestBenchMixHonoured(t *testing.T) {
	tests := []struct {
		mix  string
		want map[string]float64
	}{
		{"telehealth=40,office=30,ed=20,inpatient=10", map[string]float64{telehealth: .4, office: .3, ed: .2, inpatient: .1}},
		{"ed=1,inpatient=3", map[string]float64{ed: .25, inpatient: .75}},
		{"office=100,telehealth=0", map[string]float64{office: 1}},
	}
	for _, tt := range tests {
		g := testGenerator(t, 42, tt.mix)
		const n = 4000
		got := map[string]int{}
		for i := range int64(n) {
			got[g.kindAt(i)]++
		}
		for i := range int64(100) {
			if v := g.Visit(i); v.Kind != g.kindAt(i) || !bytes.Contains(v.Body, []byte(`"code":"`+encounterClass[v.Kind][0]+`"`)) {
				t.Fatalf("mix %s: Bundle %d is a %s visit, kindAt says %s", tt.mix, i, v.Kind, g.kindAt(i))
			}
		}
		for _, kind := range kinds {
			share := float64(got[kind]) / n
			if math.Abs(share-tt.want[kind]) > 0.03 {
				t.Errorf("mix %s: %s share %.3f, want %.2f ± 0.03", tt.mix, kind, share, tt.want[kind])
			}
		}
	}
}

// TestBenchGeneratorDeterministic: a seed gives the same Bundles every time;
// another seed or run label gives other Bundles.
func TestBenchGeneratorDeterministic(t *testing.T) {
	a, b := testGenerator(t, 3, "telehealth=1,office=1,ed=1,inpatient=1"), testGenerator(t, 3, "telehealth=1,office=1,ed=1,inpatient=1")
	other := testGenerator(t, 4, "telehealth=1,office=1,ed=1,inpatient=1")
	for i := range int64(20) {
		if va, vb := a.Visit(i), b.Visit(i); !bytes.Equal(va.Body, vb.Body) {
			t.Fatalf("seed 3 Bundle %d differs between generators", i)
		}
		if bytes.Equal(a.Visit(i).Body, other.Visit(i).Body) {
			t.Errorf("seeds 3 and 4 give the same Bundle %d", i)
		}
		if bytes.Equal(a.Visit(i).Body, a.Visit(i+1).Body) {
			t.Errorf("Bundles %d and %d are equal", i, i+1)
		}
	}
	relabelled := *a
	relabelled.run = "u"
	if bytes.Equal(a.Visit(0).Body, relabelled.Visit(0).Body) {
		t.Error("the run label does not change the Bundle (MRNs would collide between runs)")
	}
}

func TestParseBenchMix(t *testing.T) {
	tests := []struct {
		in   string
		want string // rendered mix, or the error's start
	}{
		{"telehealth=40,office=30,ed=20,inpatient=10", "telehealth=40,office=30,ed=20,inpatient=10"},
		{" ED = 5 , inpatient=0", "ed=5"},
		{"office=1,office=2", "--mix: office given twice"},
		{"dental=5", `--mix: unknown kind "dental"`},
		{"office", "--mix \"office\": want kind=weight"},
		{"office=-1", "--mix \"office=-1\": want kind=weight"},
		{"office=0", "--mix \"office=0\": the weights add up to 0"},
	}
	for _, tt := range tests {
		m, err := parseMix(tt.in)
		got := m.String()
		if err != nil {
			got = err.Error()
		}
		if !strings.HasPrefix(got, tt.want) {
			t.Errorf("parseMix(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestBenchNPI(t *testing.T) {
	// 1234567893 is the example NPI of the CMS check-digit paper.
	if got := makeNPI(123456789); got != "1234567893" {
		t.Errorf("makeNPI(123456789) = %s, want 1234567893", got)
	}
}
