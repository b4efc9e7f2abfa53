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
		name string
		q    Query
		want []string // the fields of the issues, in order
	}{
		{"compliant multiple choice", compliant, nil},
		{"compliant open question", with(func(q *Query) { q.Options = nil }), nil},
		{"no question", with(func(q *Query) { q.Question = "  " }), []string{"question"}},
		{"no indicator", with(func(q *Query) { q.Indicators = []string{" "} }), []string{"indicators"}},
		{"no other choice", with(func(q *Query) { q.Options = []string{"Bacterial", "Viral"} }), []string{"options"}},
		{"one choice besides other", with(func(q *Query) { q.Options = []string{"Bacterial", "Clinically undetermined"} }), []string{"options"}},
		{"only other", with(func(q *Query) { q.Options = []string{"Other"} }), []string{"options"}},
		{"payment in an indicator", with(func(q *Query) { q.Indicators = []string{"affects DRG payment"} }), []string{"indicators"}},
		{"payment in the question", with(func(q *Query) { q.Question = "Would a CC raise reimbursement?" }), []string{"question"}},
		{"everything wrong", Query{Options: []string{"pay more"}}, []string{"question", "indicators", "options", "options", "options"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, is := range CheckQuery(tt.q) {
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
