// Package v2ingesttest holds the test helpers the HL7 v2 use case's own
// tests (mapping/v2ingest) and the end-to-end MLLP tests (cmd/codebridge)
// share: rewriting MSH fields of a sample message, the visit ids it maps
// to, reading a counter, and
// a log buffer safe for concurrent writers. It is imported by tests only.
package v2ingesttest

import (
	"bytes"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/codebridge/codebridge/mapping/hl7v2"
	"github.com/codebridge/codebridge/mapping/v2fhir"
)

// WithMSH replaces MSH-n (n ≥ 3) of a message with standard delimiters,
// adding empty fields before it when the MSH ends earlier.
func WithMSH(msg []byte, n int, value string) []byte {
	segs := bytes.SplitN(msg, []byte("\r"), 2)
	f := bytes.Split(segs[0], []byte("|"))
	for len(f) < n {
		f = append(f, nil)
	}
	f[n-1] = []byte(value)
	segs[0] = bytes.Join(f, []byte("|"))
	return bytes.Join(segs, []byte("\r"))
}

// WithControlID replaces MSH-10 (a sender's next message id).
func WithControlID(msg []byte, id string) []byte { return WithMSH(msg, 10, id) }

// CounterValue reads an unlabelled counter from reg (0 when absent).
func CounterValue(t testing.TB, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == name && len(f.GetMetric()) == 1 {
			return f.GetMetric()[0].GetCounter().GetValue()
		}
	}
	return 0
}

// SyncBuffer is a bytes.Buffer safe for a logger written from several
// goroutines.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// VisitIDs are the Encounter and Patient ids an HL7 v2 message maps to.
func VisitIDs(t testing.TB, msg []byte) (enc, pat string) {
	t.Helper()
	parsed, err := hl7v2.Parse(msg)
	if err != nil {
		t.Fatal(err)
	}
	enc, pat, err = v2fhir.IDs(parsed, v2fhir.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return enc, pat
}
