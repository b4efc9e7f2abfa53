package mapping_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping"
)

// BenchmarkPlanBundle measures the in-process, CPU-only part of ingesting a
// transaction Bundle: the validating parse of the whole Bundle and
// PlanBundle (reference rewriting and Prepare of every entry). It reports
// stored resources per second.
func BenchmarkPlanBundle(b *testing.B) {
	for _, file := range []string{"inpatient-stay.json", "ed-visit.json"} {
		b.Run(file, func(b *testing.B) {
			raw, err := os.ReadFile(filepath.Join(bundlesDir, file))
			if err != nil {
				b.Fatal(err)
			}
			p, err := fhir.NewParser()
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			newID := func() string { n++; return fmt.Sprint(n) }
			stored := 0
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				bundle, err := p.ParseBundle(raw)
				if err != nil {
					b.Fatal(err)
				}
				plans, err := mapping.PlanBundle(bundle, newID)
				if err != nil {
					b.Fatal(err)
				}
				for _, pl := range plans {
					if pl.Write != nil {
						stored++
					}
				}
			}
			b.ReportMetric(float64(stored)/b.Elapsed().Seconds(), "resources/s")
		})
	}
}
