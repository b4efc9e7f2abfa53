package edits

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// glChart is a professional office visit on 2025-11-14 (FY2026) with the
// diagnoses given, in order; each diagnosis has a line pointing to it so
// that no pointer edit mixes in.
func glChart(dxs ...string) Chart {
	c := office()
	c.Diagnoses = nil
	for _, d := range dxs {
		c.Diagnoses = append(c.Diagnoses, Diagnosis{Code: d})
	}
	return c
}

// guidelineEdits runs Check on the bundled FY2026 sets and keeps the
// guideline edits (GL_*).
func guidelineEdits(t *testing.T, c Chart) []Edit {
	t.Helper()
	got, err := Check(context.Background(), testCatalog(t), c)
	if err != nil {
		t.Fatal(err)
	}
	var out []Edit
	for _, e := range got {
		if strings.HasPrefix(e.Code, "GL_") {
			out = append(out, e)
		}
	}
	return out
}

// glEdit is the part of a guideline edit a table row pins: code, severity,
// target and the section its Rule cites.
type glEdit struct {
	Code     string
	Severity Severity
	Target   string
	Rule     string
}

func pin(es []Edit) []glEdit {
	var out []glEdit
	for _, e := range es {
		out = append(out, glEdit{e.Code, e.Severity, e.Target, e.Rule})
	}
	return out
}

func sec(s string) string { return GuidelinesSource + ", section " + s }

// TestGuidelineSequencing has, per rule kind, a failing chart and a
// passing one (the same codes in the order the guideline asks for), plus
// the table's exceptions and the Z codes that may be either.
func TestGuidelineSequencing(t *testing.T) {
	tests := []struct {
		name string
		dx   []string
		want []glEdit
	}{
		// I.C.20: external cause codes never first-listed.
		{"external cause first-listed", []string{"W19.XXXA", "S52.501A"},
			[]glEdit{{GLExternalCauseFirst, Error, "diagnoses[0]", sec("I.C.20")}}},
		{"external cause after the injury", []string{"S52.501A", "W19.XXXA", "Y92.009"}, nil},
		{"place of occurrence (Y92) first-listed", []string{"Y92.009", "S52.501A"},
			[]glEdit{{GLExternalCauseFirst, Error, "diagnoses[0]", sec("I.C.20")}}},
		{"transport accident (V) first-listed", []string{"V43.52XA", "S72.001A"},
			[]glEdit{{GLExternalCauseFirst, Error, "diagnoses[0]", sec("I.C.20")}}},

		// I.C.21.c.15: Z codes that may only be principal/first-listed.
		{"Z38 birth status second", []string{"P59.9", "Z38.00"},
			[]glEdit{{GLZFirstListedOnly, Error, "diagnoses[1]", sec("I.C.21.c.15")}}},
		{"Z38 birth status first", []string{"Z38.00", "P59.9"}, nil},
		{"Z51.1- chemotherapy third", []string{"C50.911", "I10", "Z51.11"},
			[]glEdit{{GLZFirstListedOnly, Error, "diagnoses[2]", sec("I.C.21.c.15")}}},
		{"Z51.11 chemotherapy first", []string{"Z51.11", "C50.911"}, nil},
		{"Z00 general exam second", []string{"I10", "Z00.00"},
			[]glEdit{{GLZFirstListedOnly, Error, "diagnoses[1]", sec("I.C.21.c.15")}}},
		{"Z00.6 excepted from Z00", []string{"I10", "Z00.6"}, nil},
		{"Z52.9 excepted from Z52", []string{"I10", "Z52.9"}, nil},
		{"Z52.4 kidney donor second", []string{"I10", "Z52.4"},
			[]glEdit{{GLZFirstListedOnly, Error, "diagnoses[1]", sec("I.C.21.c.15")}}},
		{"Z codes that may be either: Z23 second", []string{"I10", "Z23"}, nil},
		{"Z codes that may be either: Z51.89 first and second", []string{"Z51.89", "I10", "Z79.4"}, nil},
		{"Z51.81 is not Z51.1-", []string{"I10", "Z51.81"}, nil},

		// I.C.2.e.2: Z51.0 and Z51.1- may be assigned together, one secondary.
		{"Z51.11 then Z51.0", []string{"Z51.11", "Z51.0", "C50.911"}, nil},
		{"Z51.0 then Z51.11", []string{"Z51.0", "Z51.11", "C50.911"}, nil},
		{"Z51.11 then Z51.12", []string{"Z51.11", "Z51.12", "C50.911"}, nil},
		{"Z51.12 then the neoplasm then Z51.0", []string{"Z51.12", "C50.911", "Z51.0"}, nil},
		{"C50.911 then Z51.11 still refused", []string{"C50.911", "Z51.11"},
			[]glEdit{{GLZFirstListedOnly, Error, "diagnoses[1]", sec("I.C.21.c.15")}}},
		{"C50.911 then Z51.0 then Z51.11: both refused", []string{"C50.911", "Z51.0", "Z51.11"},
			[]glEdit{{GLZFirstListedOnly, Error, "diagnoses[1]", sec("I.C.21.c.15")},
				{GLZFirstListedOnly, Error, "diagnoses[2]", sec("I.C.21.c.15")}}},
		{"Z51.11 first does not let Z38 follow", []string{"Z51.11", "Z38.00"},
			[]glEdit{{GLZFirstListedOnly, Error, "diagnoses[1]", sec("I.C.21.c.15")}}},

		// I.C.21.c.6: an observation code may be secondary; a person decides.
		{"Z04.1 secondary: a person decides", []string{"S52.501A", "Z04.1"},
			[]glEdit{{GLZ04Secondary, Warning, "diagnoses[1]", sec("I.C.21.c.6")}}},
		{"Z04.71 secondary: a person decides", []string{"I10", "Z04.71"},
			[]glEdit{{GLZ04Secondary, Warning, "diagnoses[1]", sec("I.C.21.c.6")}}},
		{"Z04.1 first-listed", []string{"Z04.1", "I10"}, nil},
		{"Z04.9, excepted from the observation codes, secondary", []string{"I10", "Z04.9"},
			[]glEdit{{GLZFirstListedOnly, Error, "diagnoses[1]", sec("I.C.21.c.15")}}},

		// I.C.19.e.5.c: underdosing never first-listed.
		{"underdosing (6th character 6) first-listed", []string{"T36.0X6A", "I10"},
			[]glEdit{{GLUnderdosingFirst, Error, "diagnoses[0]", sec("I.C.19.e.5.c")}}},
		{"underdosing (5th character 6) first-listed", []string{"T36.96XA", "J44.1"},
			[]glEdit{{GLUnderdosingFirst, Error, "diagnoses[0]", sec("I.C.19.e.5.c")}}},
		{"underdosing of T50 first-listed", []string{"T50.916A", "E87.1"},
			[]glEdit{{GLUnderdosingFirst, Error, "diagnoses[0]", sec("I.C.19.e.5.c")}}},
		{"underdosing after the condition", []string{"I10", "T46.5X6A", "Z91.120"}, nil},
		{"poisoning (6th character 1) first-listed is no underdosing", []string{"T36.0X1A", "R11.10"}, nil},

		// I.C.19.a and I.B.10: the nature of the sequela first, the S code after.
		{"sequela code first, its nature after", []string{"T21.20XS", "L90.5"},
			[]glEdit{{GLSequelaFirst, Error, "diagnoses[0]", sec("I.C.19.a")}}},
		{"nature of the sequela first", []string{"L90.5", "T21.20XS"}, nil},
		{"sequela code alone", []string{"S52.501S"},
			[]glEdit{{GLSequelaFirst, Error, "diagnoses[0]", sec("I.C.19.a")}}},
		{"sequela code after a current injury only: a person decides", []string{"S72.001A", "S52.501S"},
			[]glEdit{{GLSequelaNatureUnclear, Warning, "diagnoses[1]", sec("I.B.10")}}},
		{"sequela code after its nature and a current injury", []string{"M19.031", "S72.001A", "S52.501S"}, nil},
		{"initial encounter (A) first is no sequela", []string{"S52.501A"}, nil},
		// I.C.15.p.3: O94 follows the code describing the sequelae.
		{"O94 first-listed", []string{"O94", "N81.0"},
			[]glEdit{{GLSequelaFirst, Error, "diagnoses[0]", sec("I.C.15.p.3")}}},
		{"O94 after the condition", []string{"N81.0", "O94"}, nil},
		// I.B.10 exception: a sequela code that includes its manifestation
		// (I69.-) may come first; not flagged.
		{"I69 combination sequela first", []string{"I69.351", "I10"}, nil},

		{"several rules at once", []string{"W19.XXXA", "Z38.00", "S52.501A"},
			[]glEdit{{GLExternalCauseFirst, Error, "diagnoses[0]", sec("I.C.20")},
				{GLZFirstListedOnly, Error, "diagnoses[1]", sec("I.C.21.c.15")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := guidelineEdits(t, glChart(tt.dx...))
			if diff := cmp.Diff(tt.want, pin(got)); diff != "" {
				t.Errorf("guideline edits on %v (-want +got):\n%s", tt.dx, diff)
			}
			for _, e := range got {
				if e.RuleText == "" || !strings.Contains(e.Message, "Official Guidelines") {
					t.Errorf("%s: rule text %q, message %q: want the guideline quoted and cited", e.Code, e.RuleText, e.Message)
				}
				if strings.Contains(e.Message, "outside FY2026") {
					t.Errorf("%s on a FY2026 date says %q", e.Code, e.Message)
				}
			}
		})
	}
}

// TestGuidelineEditsText pins a message and the rule text quoted for the
// Z table, which names the row.
func TestGuidelineEditsText(t *testing.T) {
	got := guidelineEdits(t, glChart("P59.9", "Z38.00"))
	if len(got) != 1 {
		t.Fatalf("edits = %v, want one", got)
	}
	e := got[0]
	if !strings.Contains(e.Message, "Z38.00") || !strings.Contains(e.Message, "diagnoses[1]") {
		t.Errorf("message %q does not name the code and its place", e.Message)
	}
	wantText := textZFirstListed + " Z38 Liveborn infants according to place of birth and type of delivery"
	if e.RuleText != wantText {
		t.Errorf("rule text = %q, want %q", e.RuleText, wantText)
	}
}

// TestGuidelinesOutsideFY2026 applies the FY2026 rules to a later date and
// says so.
func TestGuidelinesOutsideFY2026(t *testing.T) {
	c := glChart("W19.XXXA", "S52.501A")
	c.Start = date(2026, 11, 2)
	c.Lines[0].ServiceDate = c.Start
	got := guidelineEdits(t, c)
	if len(got) != 1 || got[0].Code != GLExternalCauseFirst {
		t.Fatalf("edits = %v, want GL_EXTERNAL_CAUSE_FIRST", got)
	}
	if !strings.Contains(got[0].Message, "outside FY2026 (2026-11-02)") {
		t.Errorf("message %q does not say the FY2026 guidelines were applied to a later date", got[0].Message)
	}
}

// TestGuidelinesInpatientPrincipal: on an inpatient stay the first
// diagnosis is the principal and the same rules hold.
func TestGuidelinesInpatientPrincipal(t *testing.T) {
	c := stay()
	c.Diagnoses = []Diagnosis{{Code: "J20.9", POA: "Y"}, {Code: "Z51.11", POA: "Y"}}
	got := pin(guidelineEdits(t, c))
	want := []glEdit{{GLZFirstListedOnly, Error, "diagnoses[1]", sec("I.C.21.c.15")}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestGuidelinesInpatientUnacceptablePrincipal: on an inpatient claim a
// first-listed-only Z code the MCE does not accept as principal (Z00.00)
// is not advised to be listed first; one it accepts (Z51.11) is.
func TestGuidelinesInpatientUnacceptablePrincipal(t *testing.T) {
	c := stay()
	c.Diagnoses = []Diagnosis{{Code: "J20.9", POA: "Y"}, {Code: "Z00.00", POA: "Y"}}
	got := guidelineEdits(t, c)
	if len(got) != 1 || got[0].Code != GLZFirstListedOnly || got[0].Severity != Error {
		t.Fatalf("edits = %v, want GL_Z_FIRST_LISTED_ONLY", got)
	}
	if m := got[0].Message; strings.Contains(m, "list it first") || !strings.Contains(m, "not reported") || !strings.Contains(m, "I.C.21.c.15") {
		t.Errorf("inpatient message %q advises listing first an MCE-unacceptable principal", m)
	}
	c.Diagnoses[1].Code = "Z51.11"
	if got = guidelineEdits(t, c); len(got) != 1 || !strings.Contains(got[0].Message, "list it first") {
		t.Errorf("inpatient Z51.11 secondary: edits %v, want the advice to list it first", got)
	}
	// Outpatient, the same Z00.00 is advised to be listed first.
	if got = guidelineEdits(t, glChart("I10", "Z00.00")); len(got) != 1 || !strings.Contains(got[0].Message, "list it first") {
		t.Errorf("outpatient Z00.00 secondary: edits %v, want the advice to list it first", got)
	}
}

// TestUnderdosing checks the underdosing predicate against its titles:
// every T36-T50 code whose title says underdosing, and none other.
func TestUnderdosing(t *testing.T) {
	yes := []string{"T360X6A", "T360X6D", "T360X6S", "T3696XA", "T4146XA", "T50916A", "T50Z96A", "T40416A", "T43626A"}
	no := []string{"T360X1A", "T360X5A", "T3691XA", "T510X1A", "T510X4A", "T360X6", "S52501A", "T3596XA", ""}
	for _, c := range yes {
		if !underdosing(c) {
			t.Errorf("underdosing(%q) = false", c)
		}
	}
	for _, c := range no {
		if underdosing(c) {
			t.Errorf("underdosing(%q) = true", c)
		}
	}
}

// TestFirstListedOnlyZ checks the table row by row and its exceptions.
func TestFirstListedOnlyZ(t *testing.T) {
	if len(zFirstListedOnly) != 19 {
		t.Errorf("the I.C.21.c.15 table has 19 rows, encoded %d", len(zFirstListedOnly))
	}
	yes := []string{"Z00.00", "Z00.121", "Z01.419", "Z02.1", "Z04.1", "Z33.2", "Z31.81", "Z31.83", "Z31.84", "Z34.00",
		"Z39.2", "Z38.00", "Z38.8", "Z40.01", "Z42.1", "Z51.0", "Z51.11", "Z51.12", "Z52.4", "Z52.001", "Z76.1", "Z76.2", "z9912"}
	no := []string{"Z00.6", "Z52.9", "Z51.81", "Z51.89", "Z31.82", "Z31.89", "Z33.1", "Z99.11", "Z76.3", "Z23", "Z03.89", "I10", ""}
	for _, c := range yes {
		if _, ok := FirstListedOnlyZ(c); !ok {
			t.Errorf("FirstListedOnlyZ(%q) = false, want true", c)
		}
	}
	for _, c := range no {
		if row, ok := FirstListedOnlyZ(c); ok {
			t.Errorf("FirstListedOnlyZ(%q) = true (%s), want false", c, row)
		}
	}
}

// TestGuidelineTextsQuoted checks every rule text, and every row of the Z
// table as printed, against the excerpt of the FY2026 guidelines PDF
// (pdftotext -layout), whitespace joined.
func TestGuidelineTextsQuoted(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "icd10cm-guidelines-fy2026-excerpt.txt"))
	if err != nil {
		t.Fatal(err)
	}
	pdf := strings.Join(strings.Fields(string(b)), " ")
	texts := map[string]string{
		"I.C.20": textExternalCause, "I.C.21.c.15": textZFirstListed, "I.C.19.a": textSequela19,
		"I.B.10": textSequelaGeneral, "I.C.15.p.3": textO94,
		"I.C.2.e.2": textZ51Together, "I.C.21.c.6": textObservationSecondary, "I.C.19.e.5.c": textUnderdosing,
	}
	for s, text := range texts {
		if !strings.Contains(pdf, text) {
			t.Errorf("section %s: %q is not in the guidelines", s, text)
		}
	}
	for _, r := range zFirstListedOnly {
		row := strings.TrimSpace(r.Shown + " " + r.Title + " " + r.Printed)
		if !strings.Contains(pdf, row) {
			t.Errorf("Z table row %q is not in the guidelines", row)
		}
	}
}
