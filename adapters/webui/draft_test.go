package webui

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/codebridge/codebridge/mapping/workitem"
)

func threeDx() draft {
	return draft{Diagnoses: []draftDx{{Code: "A"}, {Code: "B"}, {Code: "C"}},
		Lines: []draftLine{{Code: "99213", Pointers: "1, 2, 3"}, {Code: "93010", Pointers: "C"}}}
}

func TestMoveKeepsPointersOnTheirDiagnoses(t *testing.T) {
	tests := []struct {
		verb, section string
		row           int
		dx            []string
		ptrs          []string
		out           outcome
	}{
		{"up", "dx", 1, []string{"B", "A", "C"}, []string{"2, 1, 3", "3"}, outcome{"dx-0-code", "B is now the principal (first-listed) diagnosis."}},
		{"down", "dx", 0, []string{"B", "A", "C"}, []string{"2, 1, 3", "3"}, outcome{"dx-1-down", "A moved to position 2."}},
		{"down", "dx", 1, []string{"A", "C", "B"}, []string{"1, 3, 2", "2"}, outcome{"dx-2-code", "B moved to position 3."}},
		{"remove", "dx", 0, []string{"B", "C"}, []string{"1, 2", "2"}, outcome{"dx-0-code", "Removed A."}},
		{"remove", "dx", 2, []string{"A", "B"}, []string{"1, 2", ""}, outcome{"dx-1-code", "Removed C."}},
		{"down", "ln", 0, []string{"A", "B", "C"}, []string{"C", "1, 2, 3"}, outcome{"ln-1-code", "99213 moved to position 2."}},
	}
	for _, tt := range tests {
		d := threeDx()
		out, err := d.move(tt.verb, tt.section, tt.row)
		if err != nil {
			t.Fatalf("%s %s %d: %v", tt.verb, tt.section, tt.row, err)
		}
		var dx, ptrs []string
		for _, x := range d.Diagnoses {
			dx = append(dx, x.Code)
		}
		for _, l := range d.Lines {
			ptrs = append(ptrs, l.Pointers)
		}
		if diff := cmp.Diff([]any{tt.dx, tt.ptrs, tt.out}, []any{dx, ptrs, out}, cmp.AllowUnexported(outcome{})); diff != "" {
			t.Errorf("%s %s %d: mismatch (-want +got):\n%s", tt.verb, tt.section, tt.row, diff)
		}
	}
	d := threeDx()
	for _, bad := range []struct {
		verb string
		row  int
	}{{"up", 0}, {"down", 2}, {"remove", 3}, {"remove", -1}} {
		if _, err := d.move(bad.verb, "dx", bad.row); workitem.KindOf(err) != workitem.Invalid {
			t.Errorf("%s row %d = %v, want Invalid", bad.verb, bad.row, err)
		}
	}
}

func TestDraftAssignment(t *testing.T) {
	d := draft{
		Diagnoses: []draftDx{{Code: "J20.9", POA: "Y"}, {Code: ""}, {Code: "I10"}},
		Lines: []draftLine{{Code: "99213", Modifiers: "95, 25", Units: "", Pointers: "A C", Date: "2026-03-10", POS: "02"},
			{Code: "93010", Units: "two", Pointers: "1, M"}, {Code: "93000", Units: "2x"}, {Code: "93005", Units: "10000"},
			{Code: "71046", Pointers: "1, B"}, {Code: "", Units: "3"}, {Code: "36415", Units: "9999", Pointers: "5"}},
		Procedures: []draftProc{{Code: "0DTJ4ZZ", Date: "2026-03-10"}, {Code: "0DTJ0ZZ", Date: "10/03/2026"}},
	}
	got, errs := d.assignment()
	// Rows with a field error stay out; pointers skip the empty diagnosis
	// row, and one past the rows is kept for the edits to report.
	want := workitem.Assignment{
		Diagnoses: []workitem.AssignedDiagnosis{{Code: "J20.9", POA: "Y"}, {Code: "I10"}},
		Lines: []workitem.AssignedLine{{Code: "99213", Modifiers: []string{"95", "25"}, Units: 1, Diagnoses: []int{1, 2}, ServiceDate: "2026-03-10", PlaceOfService: "02"},
			{Code: "36415", Units: 9999, Diagnoses: []int{4}}},
		Procedures: []workitem.AssignedProcedure{{Code: "0DTJ4ZZ", Date: "2026-03-10"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("assignment: mismatch (-want +got):\n%s", diff)
	}
	wantErrs := []string{
		"Line 2 (93010): units must be a whole number from 1 to 9999.",
		"Line 2 (93010): diagnosis pointer “M” is not a diagnosis number (1–12) or letter (A–L).",
		"Line 3 (93000): units must be a whole number from 1 to 9999.",
		"Line 4 (93005): units must be a whole number from 1 to 9999.",
		"Line 5 (71046): diagnosis pointer “B” names a diagnosis row without a code.",
		"Procedure 2 (0DTJ0ZZ): enter the date as YYYY-MM-DD.",
	}
	if diff := cmp.Diff(wantErrs, errs); diff != "" {
		t.Errorf("field errors: mismatch (-want +got):\n%s", diff)
	}
	// The stored assignment comes back as the same rows.
	back := draftOf(got, 0)
	if diff := cmp.Diff([]draftLine{{Code: "99213", Modifiers: "95, 25", Units: "1", Pointers: "1, 2", Date: "2026-03-10", POS: "02"},
		{Code: "36415", Units: "9999", Pointers: "4"}}, back.Lines); diff != "" {
		t.Errorf("draftOf lines: mismatch (-want +got):\n%s", diff)
	}
}

func TestAddSuggested(t *testing.T) {
	dx := []string{"J20.9", "R05.9"} // the suggested diagnoses, in chart order
	tests := []struct {
		name     string
		pane     []draftDx
		sc       workitem.SuggestedCode
		wantLine []draftLine
		wantPx   []draftProc
	}{
		{"a charge keeps its modifiers, units, date and pointers, renumbered to the pane",
			[]draftDx{{Code: "R05.9"}, {Code: "J20.9"}},
			workitem.SuggestedCode{System: "cpt", Code: "94640", Kind: "procedure", Modifiers: []string{"76", "59"}, Units: 2, Diagnoses: []int{1, 2}, ServiceDate: "2026-03-09"},
			[]draftLine{{Code: "94640", Modifiers: "76, 59", Units: "2", Pointers: "2, 1", Date: "2026-03-09"}}, nil},
		{"without pointers it points at the first diagnoses",
			[]draftDx{{Code: "J20.9"}, {Code: "I10"}},
			workitem.SuggestedCode{System: "hcpcs", Code: "J7613", Kind: "procedure"},
			[]draftLine{{Code: "J7613", Units: "1", Pointers: "1, 2"}}, nil},
		{"pointers to diagnoses not in the pane fall back to the first diagnoses",
			[]draftDx{{Code: "I10"}},
			workitem.SuggestedCode{System: "cpt", Code: "99213", Kind: "procedure", Diagnoses: []int{2, 7}},
			[]draftLine{{Code: "99213", Units: "1", Pointers: "1"}}, nil},
		{"a PCS procedure keeps its date",
			nil, workitem.SuggestedCode{System: "icd10pcs", Code: "0DTJ4ZZ", Kind: "procedure", ServiceDate: "2026-03-08"},
			nil, []draftProc{{Code: "0DTJ4ZZ", Date: "2026-03-08"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := draft{Diagnoses: tt.pane}
			if _, err := d.addSuggested(tt.sc, dx, "2026-03-10"); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]any{tt.wantLine, tt.wantPx}, []any{d.Lines, d.Procedures}); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAddCode(t *testing.T) {
	var d draft
	for _, c := range []struct{ system, code string }{{"icd10cm", "j20.9"}, {"icd10cm", "I10"}, {"icd10cm", "J20.9"}, {"cpt", "99213"}, {"icd10pcs", "0DTJ4ZZ"}} {
		if _, err := d.addCode(c.system, c.code, "", "2026-03-10"); err != nil {
			t.Fatal(err)
		}
	}
	want := draft{Diagnoses: []draftDx{{Code: "J20.9"}, {Code: "I10"}}, Lines: []draftLine{{Code: "99213", Units: "1", Pointers: "1, 2"}},
		Procedures: []draftProc{{Code: "0DTJ4ZZ", Date: "2026-03-10"}}}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("after adds (a repeated diagnosis is not added twice): mismatch (-want +got):\n%s", diff)
	}
	if _, err := d.addCode("loinc", "1-8", "", ""); workitem.KindOf(err) != workitem.Invalid {
		t.Errorf("unknown system = %v", err)
	}
}

func TestDisplayFor(t *testing.T) {
	tests := []struct{ code, field, want string }{
		{"J20.9", "J20.9|Acute bronchitis", "Acute bronchitis"},
		{"J20.8", "J20.9|Acute bronchitis", ""}, // the coder typed another code: look it up again
		{"J20.9", "", ""},
	}
	for _, tt := range tests {
		if got := displayFor(tt.code, tt.field); got != tt.want {
			t.Errorf("displayFor(%q, %q) = %q, want %q", tt.code, tt.field, got, tt.want)
		}
	}
}
