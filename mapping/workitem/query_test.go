package workitem

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCheckQuery(t *testing.T) {
	compliant := Query{Question: "Please clarify the type of pneumonia.", Indicators: []string{"CXR: RLL infiltrate"},
		Options: []string{"Bacterial pneumonia", "Viral pneumonia", QueryOtherOption}}
	with := func(f func(*Query)) Query {
		q := compliant
		f(&q)
		return q
	}
	tests := []struct {
		name     string
		q        Query
		want     []string // the fields of the issues, in order
		composed bool     // checked as the workbench's composer does (CheckComposedQuery)
	}{
		{"compliant multiple choice", compliant, nil, false},
		{"compliant open question", with(func(q *Query) { q.Options = nil }), nil, false},
		{"no question", with(func(q *Query) { q.Question = "  " }), []string{"question"}, false},
		{"no indicator: the API's bare question is fine", with(func(q *Query) { q.Indicators = nil; q.Options = nil }), nil, false},
		{"no indicator in the composer", with(func(q *Query) { q.Indicators = []string{" "} }), []string{"indicators"}, true},
		{"no other choice", with(func(q *Query) { q.Options = []string{"Bacterial", "Viral"} }), []string{"options"}, false},
		{"one choice besides other", with(func(q *Query) { q.Options = []string{"Bacterial", "Clinically undetermined"} }), []string{"options"}, false},
		{"only other", with(func(q *Query) { q.Options = []string{"Other"} }), []string{"options"}, false},
		{"payment in an indicator", with(func(q *Query) { q.Indicators = []string{"affects DRG payment"} }), []string{"indicators"}, false},
		{"payment in the question", with(func(q *Query) { q.Question = "Would a CC raise reimbursement?" }), []string{"question"}, false},
		{"everything wrong", Query{Options: []string{"pay more"}}, []string{"question", "options", "options", "options"}, false},
		{"everything wrong in the composer", Query{Options: []string{"pay more"}}, []string{"question", "indicators", "options", "options", "options"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			check := CheckQuery
			if tt.composed {
				check = CheckComposedQuery
			}
			for _, is := range check(tt.q) {
				if is.Diagnostics == "" || is.Severity != "error" {
					t.Errorf("issue without a reason: %+v", is)
				}
				got = append(got, is.Expression...)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("CheckQuery issues: mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
