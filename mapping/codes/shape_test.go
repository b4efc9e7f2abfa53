package codes

import (
	"errors"
	"strings"
	"testing"
)

func TestShaped(t *testing.T) {
	for _, tt := range []struct {
		system System
		code   string
		header bool
		want   bool
	}{
		{ICD10CM, "J209", false, true},
		{ICD10CM, "S72001A", false, true},
		{ICD10CM, "QA0", true, true},
		{ICD10CM, "0016070", false, false},
		{ICD10CM, "J2", false, false},
		{ICD10PCS, "0016070", false, true},
		{ICD10PCS, "B020ZZZ", false, true},
		{ICD10PCS, "001", true, true},
		{ICD10PCS, "001", false, false},
		{ICD10PCS, "J209", false, false},
		{ICD10PCS, "S72001A", false, false},
		{ICD10PCS, "0I16070", false, false},
		{HCPCS, "J1885", false, true},
		{HCPCS, "99213", false, false},
		{HCPCSModifier, "XU", false, true},
		{CPT, "0001U", false, true},
		{CPT, "J1885", false, false},
		{MUETable, "J1885", false, true},
		{PTPTable, "99213", false, true},
		{PTPTable, "J209", false, false},
	} {
		if got := Shaped(tt.system, tt.code, tt.header); got != tt.want {
			t.Errorf("Shaped(%s, %q, %v) = %v, want %v", tt.system, tt.code, tt.header, got, tt.want)
		}
	}
}

func TestShapeCheck(t *testing.T) {
	var c ShapeCheck
	if err := c.Err(ICD10CM, "x.txt"); !errors.Is(err, ErrNoRecords) || !strings.Contains(err.Error(), "x.txt") {
		t.Errorf("empty: %v", err)
	}
	c.Add(ICD10CM, "0016070", false)
	c.Add(ICD10CM, "0016071", false)
	c.Add(ICD10CM, "J209", false)
	if err := c.Err(ICD10CM, "pcs.txt"); !errors.Is(err, ErrWrongShape) || !strings.Contains(err.Error(), `2 of 3`) {
		t.Errorf("mostly PCS codes as icd10cm: %v", err)
	}
	c.Add(ICD10CM, "J20", true)
	if err := c.Err(ICD10CM, "pcs.txt"); err != nil {
		t.Errorf("half bad: %v, want accepted", err)
	}
}

func TestCatalogLoadRefusesEmptyAndWrongFiles(t *testing.T) {
	c := NewCatalog()
	pcs := "00002 0016070 1 Bypass Cereb Vent to Nasophar with Autol Sub, Open Approach  Bypass\n"
	for _, tt := range []struct {
		system System
		data   string
	}{
		{ICD10CM, ""},
		{ICD10CM, pcs},
		{PTPTable, pcs},
		{MUETable, "HCPCS/CPT Code,Practitioner Services MUE Values,MUE Adjudication Indicator\n"},
		{MUETable, "{}"},
		{CPT, "# nothing\n"},
	} {
		rel, err := NewRelease(tt.system, map[System]string{ICD10CM: "FY2026", CPT: "2026"}[tt.system]+map[bool]string{true: "2026Q1"}[tt.system == PTPTable || tt.system == MUETable])
		if err != nil {
			t.Fatal(err)
		}
		if n, err := c.Load(rel, strings.NewReader(tt.data)); err == nil {
			t.Errorf("Load(%s, %q) = %d, nil; want an error", tt.system, tt.data, n)
		}
	}
	if rels := c.Releases(); len(rels) != 0 {
		t.Errorf("refused loads installed %v", rels)
	}
}

func TestNewReleaseNormalisesFiscalYear(t *testing.T) {
	for _, v := range []string{"2026", "FY2026", "fy26", " FY2026 ", "26"} {
		for _, sys := range []System{ICD10CM, ICD10PCS, POAExemptList} {
			if rel, err := NewRelease(sys, v); err != nil || rel.Version != "FY2026" {
				t.Errorf("NewRelease(%s, %q) = %+v, %v; want FY2026", sys, v, rel, err)
			}
		}
	}
	if rel, _ := NewRelease(HCPCS, " 2025-Oct "); rel.Version != "2025-Oct" {
		t.Errorf("HCPCS label = %q, want 2025-Oct kept", rel.Version)
	}
}
