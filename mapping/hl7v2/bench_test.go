package hl7v2

import "testing"

// BenchmarkParse parses the 15-segment ADT^A01 sample.
func BenchmarkParse(b *testing.B) {
	raw := readSample(b, "adt-a01.hl7")
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseRead parses the ADT^A01 sample and reads the ~20 values a
// mapping to FHIR would.
func BenchmarkParseRead(b *testing.B) {
	raw := readSample(b, "adt-a01.hl7")
	paths := []struct{ seg, path string }{
		{"PID", "3.1"}, {"PID", "3.4"}, {"PID", "5.1"}, {"PID", "5.2"}, {"PID", "7"}, {"PID", "8"}, {"PID", "11.1"},
		{"PV1", "2"}, {"PV1", "3.1"}, {"PV1", "7.1"}, {"PV1", "7.2"}, {"PV1", "19.1"}, {"PV1", "44"}, {"PV1", "45"},
		{"DG1", "3.1"}, {"DG1", "3.3"}, {"IN1", "3.1"}, {"IN1", "36"}, {"EVN", "2"}, {"NK1", "2.1"},
	}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		m, err := Parse(raw)
		if err != nil {
			b.Fatal(err)
		}
		for _, p := range paths {
			_ = m.First(p.seg).Get(p.path)
		}
		for _, dg1 := range m.All("DG1") {
			_ = dg1.Value(3, 1)
		}
	}
}
