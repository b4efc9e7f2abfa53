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

// indicatorPaymentWords are the payment words that cannot be clinical
// text, for the indicators a query cites from the record.
var indicatorPaymentWords = regexp.MustCompile(`(?i)\$\s*\d|\b(payments?|payer|reimburs\w*|revenue|dollars?|ms-drg|drg|financial|case[- ]mix|profit|cc/mcc)\b`)

// CheckQuery lists what makes a physician query non-compliant, one issue
// per rule broken (none when it is compliant): a question is asked; a
// multiple-choice query offers at least two clinically reasonable choices
// besides one for "other" or "clinically undetermined" (an open question
// offers none); and nothing mentions payment or billing (in the cited
// indicators, which quote the record, only unmistakable money words count). The store
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
		re    *regexp.Regexp
	}{{"question", []string{q.Question}, paymentWords}, {"options", q.Options, paymentWords},
		// Indicators quote the record, where "charge nurse" or "cost" are
		// clinical words: only unmistakable money words count there.
		{"indicators", q.Indicators, indicatorPaymentWords}}
	for _, f := range fields {
		for _, t := range f.texts {
			if m := f.re.FindString(t); m != "" {
				return f.name, m
			}
		}
	}
	return "", ""
}

// otherChoice is the "other" / "clinically undetermined" choice in its
// usual spellings: "Other", "Other / clinically undetermined", "Unable to
// determine", "Clinically undetermined" (whole choice, so "Other specified
// anemia" or "another" are clinical choices).
var otherChoice = regexp.MustCompile(`(?i)^\s*(other|other\s*(/|or|,|-)\s*(clinically\s+)?undetermined|(clinically\s+)?undetermined|unable\s+to\s+determine|other\s*(/|or|,|-)\s*unable\s+to\s+determine)\s*\.?\s*$`)

// offersOther reports whether a choice is the "other" or "clinically
// undetermined" one.
func offersOther(o string) bool { return otherChoice.MatchString(o) }

func hasText(ss []string) bool {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return true
		}
	}
	return false
}

// CheckComposedQuery is CheckQuery plus the composer's rule that at least
// one clinical indicator from the record is cited. The workbench's composer
// offers the record's sentences to cite, so it requires one; the API takes
// a bare question (CONTRACT.md §4: {"question": "..."}), whose text may
// carry its indicators, and the store enforces only CheckQuery.
func CheckComposedQuery(q Query) []Issue {
	out := CheckQuery(q)
	if !hasText(q.Indicators) {
		ind := Issue{Severity: "error", Code: "business-rule", Diagnostics: "Clinical indicators: cite at least one indicator from the record.",
			Expression: []string{"indicators"}}
		out = append([]Issue{ind}, out...)
		if len(out) > 1 && out[1].Expression[0] == "question" { // keep the form's order: question first
			out[0], out[1] = out[1], out[0]
		}
	}
	return out
}
