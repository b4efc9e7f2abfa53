package webui

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/codebridge/codebridge/mapping/workitem"
)

func TestHighlightEvidence(t *testing.T) {
	chart := &workitem.Chart{
		Conditions: []workitem.DocumentedItem{
			{Reference: "Condition/1", Codings: []workitem.Coding{{Code: "J20.9", Display: "Acute bronchitis, unspecified"}}},
			{Reference: "Condition/2", Text: "HTN", Codings: []workitem.Coding{{Code: "I10", Display: "Essential (primary) hypertension"}}},
		},
		SuggestedCodes: []workitem.SuggestedCode{
			{Code: "J20.9", Display: "Acute bronchitis, unspecified", Source: "Condition/1"},
			{Code: "I10", Source: "Condition/2"},
		},
	}
	text := "Assessment: ACUTE BRONCHITIS; essential hypertension (HTN) stable. Bronchitisless is not a word."
	want := []segment{
		{Text: "Assessment: "}, {Text: "ACUTE BRONCHITIS", Codes: "J20.9"}, {Text: "; "},
		{Text: "essential hypertension", Codes: "I10"}, {Text: " ("}, {Text: "HTN", Codes: "I10"},
		{Text: ") stable. Bronchitisless is not a word."},
	}
	if diff := cmp.Diff(want, highlight(text, evidenceTerms(chart))); diff != "" {
		t.Errorf("highlight: mismatch (-want +got):\n%s", diff)
	}
	overlap := []evidenceTerm{{"chest pain", "R07.9"}, {"pain on exertion", "R07.89"}}
	want = []segment{{Text: "chest pain on exertion", Codes: "R07.89, R07.9"}}
	if diff := cmp.Diff(want, highlight("chest pain on exertion", overlap)); diff != "" {
		t.Errorf("overlapping evidence merges: mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]segment{{Text: "nothing here"}}, highlight("nothing here", nil)); diff != "" {
		t.Errorf("no evidence: mismatch (-want +got):\n%s", diff)
	}
}

func TestBarChartLayout(t *testing.T) {
	c := newBarChart("x", "T", "D", []bar{{"a", 10, "10"}, {"b", 5, "5"}, {"c", 0, "0"}}, 0)
	var widths []int
	for _, b := range c.Bars {
		widths = append(widths, b.W)
	}
	span := chartWidth - labelWidth - valueRoom
	if diff := cmp.Diff([]int{span, span / 2, 0}, widths); diff != "" || c.Height != 2*chartMargin+3*rowHeight {
		t.Errorf("bar widths: mismatch (-want +got):\n%s (height %d)", diff, c.Height)
	}
	if e := newBarChart("y", "T", "D", nil, 0); e.Empty == "" {
		t.Error("an empty chart does not say so")
	}
}
