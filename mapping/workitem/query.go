package workitem

import (
	"regexp"
	"strings"
)

// QueryOtherOption is the choice every multiple-choice physician query
// offers besides the clinically reasonable ones, as compliant query
// practice requires.
const QueryOtherOption = "Other / clinically undetermined"

// paymentWords are words a compliant query never uses: a query asks about
// the patient's condition, never about its effect on payment.
var paymentWords = regexp.MustCompile(`(?i)\$|\b(payments?|pay|paid|payer|reimburs\w*|revenue|money|dollars?|ms-drg|drg|financial|finance|case[- ]mix|profit|cc/mcc|mcc|cost|costs|billing|bill|charges?)\b`)

// CheckQuery lists what makes a physician query non-compliant, one issue
// per rule broken (none when it is compliant): a question is asked; at
// least one clinical indicator from the record is cited; a
// multiple-choice query offers at least two clinically reasonable choices
// besides one for "other" or "clinically undetermined" (an open question
// offers none); and nothing mentions payment or billing. The store
// refuses a query with issues, and the workbench shows them on the form.
// Diagnostics quote only the payment word found, never the query's text.
func CheckQuery(q Query) []Issue {
	var out []Issue
	add := func(field, msg string) {
		out = append(out, Issue{Severity: "error", Code: "business-rule", Diagnostics: msg, Expression: []string{field}})
	}
	if strings.TrimSpace(q.Question) == "" {
		add("question", "Question: write the question for the physician.")
	}
	if !hasText(q.Indicators) {
		add("indicators", "Clinical indicators: cite at least one indicator from the record.")
	}
	if len(q.Options) > 0 {
		other, reasonable := 0, 0
		for _, o := range q.Options {
			switch {
			case offersOther(o):
				other++
			case strings.TrimSpace(o) != "":
				reasonable++
			}
		}
		if other == 0 {
			add("options", "Answer choices: a multiple-choice query must offer “"+QueryOtherOption+"”.")
		}
		if reasonable < 2 {
			add("options", "Answer choices: offer at least two clinically reasonable choices besides “"+QueryOtherOption+"”, or none for an open question.")
		}
	}
	if field, m := paymentWording(q); m != "" {
		add(field, "A query must not mention payment or billing (found “"+m+"”): ask only about the patient's condition.")
	}
	return out
}

// paymentWording answers the first payment word of a query and the field
// holding it, or "".
func paymentWording(q Query) (field, word string) {
	fields := []struct {
		name  string
		texts []string
	}{{"question", []string{q.Question}}, {"indicators", q.Indicators}, {"options", q.Options}}
	for _, f := range fields {
		for _, t := range f.texts {
			if m := paymentWords.FindString(t); m != "" {
				return f.name, m
			}
		}
	}
	return "", ""
}

// offersOther reports whether a choice is the "other" or "clinically
// undetermined" one.
func offersOther(o string) bool {
	l := strings.ToLower(o)
	return strings.Contains(l, "other") || strings.Contains(l, "undetermined")
}

func hasText(ss []string) bool {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return true
		}
	}
	return false
}
