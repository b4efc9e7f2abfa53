package mapping

import (
	"slices"
	"strings"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// PrimaryPayer returns the payor reference of the chart's primary Coverage:
// the active Coverage with the lowest Coverage.order (an absent order comes
// last, the first listed wins a tie), or "" when there is none (self-pay).
// The chart keeps active Coverages only.
func PrimaryPayer(c *workitem.Chart) string {
	best, bestOrder := -1, 0
	for i, cv := range c.Coverage {
		if cv.Status != "" && cv.Status != "active" {
			continue
		}
		o := cv.Order
		if o <= 0 {
			o = 1 << 30
		}
		if best < 0 || o < bestOrder {
			best, bestOrder = i, o
		}
	}
	if best < 0 {
		return ""
	}
	return c.Coverage[best].Payor
}

// IsMedicare reports whether the chart's primary payer (PrimaryPayer) is
// Medicare: its Coverage.payor reference is one of medicarePayers
// (CODEBRIDGE_MEDICARE_PAYERS), given as full references
// ("Organization/cms-medicare") or bare Organization ids ("cms-medicare"),
// compared exactly as FHIR ids are. Nothing is guessed from names: a payer not
// listed is not Medicare.
func IsMedicare(c *workitem.Chart, medicarePayers []string) bool {
	p := PrimaryPayer(c)
	if p == "" {
		return false
	}
	p, _, _ = strings.Cut(p, "/_history/")
	return slices.ContainsFunc(medicarePayers, func(m string) bool {
		m = strings.TrimSpace(m)
		return m != "" && (m == p || !strings.Contains(m, "/") && "Organization/"+m == p)
	})
}
