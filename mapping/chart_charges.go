package mapping

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/codebridge/codebridge/fhir"
	"github.com/codebridge/codebridge/mapping/codes"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// addCharge adds a ChargeItem to the chart's charges, unless it was entered
// in error.
func addCharge(c *workitem.Chart, s Source, ref string) error {
	var x fhir.ChargeItem
	if err := json.Unmarshal(s.Summary, &x); err != nil {
		return fmt.Errorf("mapping.BuildChart: %s summary: %w", ref, err)
	}
	if x.Status == "entered-in-error" {
		return nil
	}
	ch := workitem.Charge{Reference: ref, Status: x.Status, Codings: codings(x.Code), Text: x.Code.Text, Quantity: x.Quantity}
	for _, m := range x.Modifiers {
		if code := strings.ToUpper(strings.TrimSpace(m.Code)); code != "" {
			ch.Modifiers = append(ch.Modifiers, code)
		}
	}
	if !x.Occurrence.Start.IsZero() {
		// The service date is the date where the service happened, so it
		// is taken in the occurrence's own offset; Date is UTC like the
		// other chart dates.
		ch.Date = x.Occurrence.Start.UTC().Format(time.RFC3339)
		ch.ServiceDate = x.Occurrence.Start.Format(time.DateOnly)
	}
	for _, r := range x.Reasons {
		ch.Reasons = append(ch.Reasons, codings(r)...)
	}
	c.Charges = append(c.Charges, ch)
	return nil
}

// procedureSystem names the code system of a Procedure coding codebridge
// suggests: CPT, HCPCS or ICD-10-PCS.
func procedureSystem(uri string) (codes.System, bool) {
	switch uri {
	case fhir.SystemCPT:
		return codes.CPT, true
	case fhir.SystemHCPCS:
		return codes.HCPCS, true
	case fhir.SystemICD10PCS:
		return codes.ICD10PCS, true
	}
	return "", false
}

// maxLinePointers is how many diagnosis pointers a professional claim line
// holds (CMS-1500 box 24E, 837P SV107).
const maxLinePointers = 4

// chargeLines turns the chart's charges into suggested code lines: one per
// charge with a CPT or HCPCS coding (the first such coding), except charges
// that are not-billable or aborted. Charges billing the same code with the
// same modifiers on the same date are one line whose quantity is their sum
// (a credit is a negative quantity; an absent quantity counts as one); a
// line that sums to zero or less is dropped, and units are the sum rounded
// to the nearest whole unit, at least one. Diagnosis pointers are the
// charge reasons found among the suggested diagnoses dx, at most four.
func chargeLines(charges []workitem.Charge, dx []workitem.SuggestedCode) []workitem.SuggestedCode {
	ptr := map[string]int{}
	for i, d := range dx {
		ptr[d.Code] = i + 1
	}
	var lines []workitem.SuggestedCode
	var qty []float64
	index := map[string]int{}
	for _, ch := range charges {
		if ch.Status == "not-billable" || ch.Status == "aborted" {
			continue
		}
		line, ok := chargeLine(ch, ptr)
		if !ok {
			continue
		}
		q := ch.Quantity
		if q == 0 {
			q = 1
		}
		key := line.System + "|" + line.Code + "|" + strings.Join(line.Modifiers, ",") + "|" + line.ServiceDate
		if i, ok := index[key]; ok {
			qty[i] += q
			lines[i].Diagnoses = mergePointers(lines[i].Diagnoses, line.Diagnoses)
			continue
		}
		index[key] = len(lines)
		lines, qty = append(lines, line), append(qty, q)
	}
	out := lines[:0]
	for i, l := range lines {
		if qty[i] <= 0 {
			continue
		}
		l.Units = max(1, int(math.Round(qty[i])))
		out = append(out, l)
	}
	return out
}

// chargeLine is the suggested line of one charge, without units.
func chargeLine(ch workitem.Charge, ptr map[string]int) (workitem.SuggestedCode, bool) {
	for _, cd := range ch.Codings {
		sys, ok := procedureSystem(cd.System)
		if !ok || sys == codes.ICD10PCS || strings.TrimSpace(cd.Code) == "" {
			continue
		}
		l := workitem.SuggestedCode{System: string(sys), Code: codes.Display(sys, cd.Code), Display: cd.Display,
			Source: ch.Reference, Kind: "procedure", Modifiers: ch.Modifiers, ServiceDate: ch.ServiceDate}
		for _, r := range ch.Reasons {
			if r.System != fhir.SystemICD10CM {
				continue
			}
			if p := ptr[codes.Display(codes.ICD10CM, r.Code)]; p > 0 {
				l.Diagnoses = mergePointers(l.Diagnoses, []int{p})
			}
		}
		return l, true
	}
	return workitem.SuggestedCode{}, false
}

// mergePointers appends the pointers of b missing from a, up to
// maxLinePointers.
func mergePointers(a, b []int) []int {
	for _, p := range b {
		if len(a) < maxLinePointers && !slices.Contains(a, p) {
			a = append(a, p)
		}
	}
	return a
}
