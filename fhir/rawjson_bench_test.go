package fhir

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// benchResource is a realistic resource: the R4 example Encounter-f201
// (about 2 KB as published, 1.5 KB compact), with three references.
func benchResource(b *testing.B, compact bool) []byte {
	raw := example(b, "Encounter-f201.json")
	if compact {
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			b.Fatal(err)
		}
		raw = buf.Bytes()
	}
	return raw
}

func BenchmarkRawJSONEdits(b *testing.B) {
	when := time.Date(2024, 2, 29, 13, 14, 15, 987000000, time.UTC)
	rewrite := func(ref string) (string, bool) {
		if strings.HasPrefix(ref, "Patient/") {
			return "Patient/0a6ee1bc-7b1c-4c5e-9d0f-2d7f4e0e1a11", true
		}
		return "", false
	}
	type impl struct {
		rewrite func([]byte, func(string) (string, bool)) ([]byte, error)
		setMeta func([]byte, string, time.Time) ([]byte, error)
		setID   func([]byte, string) ([]byte, error)
	}
	impls := []struct {
		name string
		impl
	}{
		{"old", impl{rewriteReferencesJSONReference, setMetaReference, setIDReference}},
		{"new", impl{RewriteReferencesJSON, SetMeta, SetID}},
	}
	for _, form := range []struct {
		name    string
		compact bool
	}{{"pretty", false}, {"compact", true}} {
		raw := benchResource(b, form.compact)
		served, err := SetMeta(raw, "1", when) // with a meta object to replace
		if err != nil {
			b.Fatal(err)
		}
		for _, im := range impls {
			b.Run("RewriteReferencesJSON/"+form.name+"/"+im.name, func(b *testing.B) {
				b.SetBytes(int64(len(raw)))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := im.rewrite(raw, rewrite); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		for _, im := range impls {
			b.Run("SetID/"+form.name+"/"+im.name, func(b *testing.B) {
				b.SetBytes(int64(len(raw)))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := im.setID(raw, "0a6ee1bc-7b1c-4c5e-9d0f-2d7f4e0e1a11"); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		for _, im := range impls {
			b.Run("SetMeta/insert/"+form.name+"/"+im.name, func(b *testing.B) {
				b.SetBytes(int64(len(raw)))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := im.setMeta(raw, "1", when); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		for _, im := range impls {
			b.Run("SetMeta/replace/"+form.name+"/"+im.name, func(b *testing.B) {
				b.SetBytes(int64(len(served)))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := im.setMeta(served, "2", when); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		// What ingest does per resource: SetID, then SetMeta when served.
		for _, im := range impls {
			b.Run("SetID+SetMeta/"+form.name+"/"+im.name, func(b *testing.B) {
				b.SetBytes(int64(len(raw)))
				b.ReportAllocs()
				for b.Loop() {
					out, err := im.setID(raw, "0a6ee1bc-7b1c-4c5e-9d0f-2d7f4e0e1a11")
					if err != nil {
						b.Fatal(err)
					}
					if _, err := im.setMeta(out, "1", when); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkParseBundleEntries measures cutting each entry's raw resource out
// of a 12 KB transaction Bundle (11 entries), and the whole ParseBundle.
func BenchmarkParseBundleEntries(b *testing.B) {
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "bundles", "inpatient-stay.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("entries/old", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := entryResourcesReference(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("entries/new", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := entryResources(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
	p := parser(b)
	b.Run("ParseBundle/new", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := p.ParseBundle(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkJSONString(b *testing.B) {
	const s = "Patient/0a6ee1bc-7b1c-4c5e-9d0f-2d7f4e0e1a11"
	b.Run("old", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = jsonStringReference(s)
		}
	})
	b.Run("new", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = jsonString(s)
		}
	})
}
