package edits

import (
	"fmt"
	"time"

	"github.com/codebridge/codebridge/mapping/codes"
)

// ptpBypass are the NCCI-associated modifiers that let a PTP pair with
// modifier indicator 1 be paid: 59 and its subsets XE, XS, XP, XU. They are
// accepted on either line of the pair. Anatomic and global-surgery
// modifiers (LT/RT, E1-E4, F1-F9, T1-T9, 24, 25, 57, 58, 78, 79, 91) are
// not considered yet, so such claims get an error to review.
var ptpBypass = []string{"59", "XE", "XS", "XP", "XU"}

// billed is a line with a procedure code, for the NCCI edits.
type billed struct {
	idx  int
	code string
	day  time.Time
	line Line
}

func (k *checker) billedLines() []billed {
	var out []billed
	for i, l := range k.c.Lines {
		code := codes.Normalize(codes.CPT, l.Code)
		_, cpt := codes.CPTFormat(code)
		if cpt || codes.HCPCSFormat(code) {
			out = append(out, billed{i, code, codes.Day(k.lineDate(l)), l})
		}
	}
	return out
}

// mue sums units per code and date of service (indicators 2 and 3) or per
// line (indicator 1) and compares them with the MUE value.
func (k *checker) mue() {
	type key struct {
		code string
		day  time.Time
	}
	var order []key
	total, last, mues := map[key]int{}, map[key]int{}, map[key]codes.MUE{}
	for _, b := range k.billedLines() {
		m, err := k.lk.MUE(k.ctx, b.code, b.day)
		switch k.classify(err) {
		case noRelease:
			k.noRelease(codes.MUETable, fmt.Sprintf("lines[%d].units", b.idx))
			continue
		case found:
		default:
			continue
		}
		if !m.Indicator.PerDay() {
			k.mueExceeded(m, b.line.Units, b.idx, "line")
			continue
		}
		kk := key{b.code, b.day}
		if _, ok := total[kk]; !ok {
			order = append(order, kk)
		}
		total[kk] += max(b.line.Units, 0)
		last[kk], mues[kk] = b.idx, m
	}
	for _, kk := range order {
		k.mueExceeded(mues[kk], total[kk], last[kk], "date of service")
	}
}

func (k *checker) mueExceeded(m codes.MUE, units, idx int, per string) {
	if units <= m.MaxUnits {
		return
	}
	k.add(MUEExceeded, Error, fmt.Sprintf("lines[%d].units", idx),
		"%d units of %s exceed its MUE of %d per %s (adjudication indicator %d)", units, m.Code, m.MaxUnits, per, m.Indicator)
}

// ptp checks every pair of lines on the same date of service against the
// NCCI procedure-to-procedure edits, in both column orders.
func (k *checker) ptp() {
	bs := k.billedLines()
	for i := range bs {
		for j := i + 1; j < len(bs); j++ {
			a, b := bs[i], bs[j]
			if a.code == b.code || !a.day.Equal(b.day) {
				continue
			}
			if !k.pair(a, b) {
				k.pair(b, a)
			}
		}
	}
}

// pair applies the edit with col1 in column 1, if any, and reports whether
// one exists.
func (k *checker) pair(col1, col2 billed) bool {
	p, err := k.lk.PTP(k.ctx, col1.code, col2.code, col1.day)
	switch k.classify(err) {
	case noRelease:
		k.noRelease(codes.PTPTable, fmt.Sprintf("lines[%d].code", col2.idx))
		return true
	case found:
	default:
		return false
	}
	target := fmt.Sprintf("lines[%d]", col2.idx)
	switch {
	case p.Modifier == 0:
		k.add(NCCIPTPNoModifier, Error, target+".code",
			"NCCI PTP: %s is not payable with %s on the same date (modifier indicator 0, no bypass)", col2.code, col1.code)
	case hasModifier(col1.line, ptpBypass) || hasModifier(col2.line, ptpBypass):
	default:
		k.add(NCCIPTP, Error, target+".modifiers",
			"NCCI PTP: %s is bundled into %s; append 59, XE, XS, XP or XU only if the service was distinct", col2.code, col1.code)
	}
	return true
}
