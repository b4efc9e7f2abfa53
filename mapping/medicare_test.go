package mapping_test

import (
	"testing"

	"github.com/codebridge/codebridge/mapping"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// TestIsMedicare: the primary payer (active Coverage with the lowest order)
// is Medicare only when CODEBRIDGE_MEDICARE_PAYERS lists its reference or
// id; it sets the severity of MUE_ZERO (CMS MUE value 0: not payable by
// Medicare).
func TestIsMedicare(t *testing.T) {
	listed := []string{"Organization/cms-medicare", "medicare-b"}
	cov := func(payor string, order int) workitem.CoverageView {
		return workitem.CoverageView{Reference: "Coverage/" + payor, Status: "active", Payor: payor, Order: order}
	}
	for _, tt := range []struct {
		name string
		cov  []workitem.CoverageView
		want bool
	}{
		{"listed reference", []workitem.CoverageView{cov("Organization/cms-medicare", 1)}, true},
		{"listed bare id", []workitem.CoverageView{cov("Organization/medicare-b", 0)}, true},
		{"versioned reference", []workitem.CoverageView{cov("Organization/cms-medicare/_history/3", 0)}, true},
		{"not listed", []workitem.CoverageView{cov("Organization/acme-health", 1)}, false},
		{"name is not enough", []workitem.CoverageView{cov("Organization/medicare", 1)}, false},
		{"self-pay", nil, false},
		{"Medicare secondary", []workitem.CoverageView{cov("Organization/cms-medicare", 2), cov("Organization/acme-health", 1)}, false},
		{"Medicare primary by order", []workitem.CoverageView{cov("Organization/acme-health", 2), cov("Organization/cms-medicare", 1)}, true},
		{"no order comes last", []workitem.CoverageView{cov("Organization/acme-health", 0), cov("Organization/cms-medicare", 3)}, true},
		{"a bare id names an Organization", []workitem.CoverageView{cov("Patient/medicare-b", 1)}, false},
	} {
		c := &workitem.Chart{Coverage: tt.cov}
		if got := mapping.IsMedicare(c, listed); got != tt.want {
			t.Errorf("%s: IsMedicare = %v, want %v (primary %q)", tt.name, got, tt.want, mapping.PrimaryPayer(c))
		}
	}
	if mapping.IsMedicare(&workitem.Chart{Coverage: []workitem.CoverageView{cov("Organization/cms-medicare", 1)}}, nil) {
		t.Error("IsMedicare with no payers configured = true, want false")
	}
}
