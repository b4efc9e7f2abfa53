package edits

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/codebridge/codebridge/mapping/codes"
)

// The edit codes of the NCCI rules added for issue #17; stable like those
// in codes.go.
const (
	// MUEExceededClinical is units above an MUE whose adjudication
	// indicator is 3 (clinical): a warning, payable only with
	// documentation, so a person decides.
	MUEExceededClinical = "MUE_EXCEEDED_CLINICAL"
	// MUEZero is a code whose MUE is 0: an error for a Medicare payer, a
	// warning otherwise.
	MUEZero = "MUE_ZERO"
	// NCCI59OnEM is modifier 59 or XE, XP, XS, XU on an E/M code.
	NCCI59OnEM = "NCCI_59_ON_EM"
	// NCCIPTPBypassed is a modifier-indicator-1 PTP pair that a modifier
	// sent with the chart bypasses: a chart warning, so a person confirms
	// the record supports it.
	NCCIPTPBypassed = "NCCI_PTP_BYPASSED"
)

// ncci runs the NCCI edits the claim type is subject to. The MUE and PTP
// tables codebridge loads are the practitioner tables (the bundled MUE
// extract and `codes load --system mue|ptp`, README "NCCI edits"). NCCI is
// a Part B program (NCCI Policy Manual for Medicare Services,
// Introduction): its edits are not applied to facility claims for
// inpatient services, and outpatient hospital claims are edited against
// CMS's separate outpatient hospital PTP and MUE tables (in the I/OCE),
// whose values differ from the practitioner ones (G0378 and G0463 have a
// practitioner MUE of 0, yet are the hospital's observation and clinic
// visit codes). So:
//
//   - professional claims: the practitioner MUE and PTP edits;
//   - inpatient institutional claims: no NCCI edit;
//   - outpatient institutional claims: no practitioner edit, but a coverage
//     note (NO_RELEASE_FOR_DOS, Covers mue or ptp) where the outpatient
//     hospital rule could have fired: a code above 1 unit on a date for
//     MUE, two different codes on one date for PTP.
func (k *checker) ncci() {
	switch {
	case k.c.InpatientClaim():
	case k.c.ClaimType == Institutional:
		k.outpatientNCCINotes()
	default:
		k.mue()
		k.ptp()
	}
}

// outpatientNCCINotes notes, on an outpatient institutional claim, that
// the outpatient hospital MUE and PTP tables are not loaded, where they
// could have applied (see ncci).
func (k *checker) outpatientNCCINotes() {
	type key struct {
		code string
		day  time.Time
	}
	bs := k.billedLines()
	sum := map[key]int{}
	mueAt, mueUnits, mueCode := -1, 1, ""
	for _, b := range bs {
		kk := key{b.code, b.day}
		sum[kk] += max(b.line.Units, 1)
		if sum[kk] > mueUnits {
			mueAt, mueUnits, mueCode = b.idx, sum[kk], b.code
		}
	}
	if mueAt >= 0 && !k.warned[codes.MUETable] {
		k.warned[codes.MUETable] = true
		k.note(NoReleaseForDOS, codes.MUETable, fmt.Sprintf("lines[%d].units", mueAt),
			"the outpatient hospital MUE table is not loaded (codebridge loads the practitioner table, which does not apply to an "+
				"outpatient institutional claim): %d units of %s on one date of service were not checked against an MUE "+
				"(NCCI Policy Manual ch. I §V; CMS publishes separate outpatient hospital MUE values)", mueUnits, mueCode)
	}
	for i := range bs {
		for j := i + 1; j < len(bs); j++ {
			if bs[i].code == bs[j].code || !bs[i].day.Equal(bs[j].day) || k.warned[codes.PTPTable] {
				continue
			}
			k.warned[codes.PTPTable] = true
			k.note(NoReleaseForDOS, codes.PTPTable, fmt.Sprintf("lines[%d].code", bs[j].idx),
				"the outpatient hospital NCCI PTP table is not loaded (codebridge loads the practitioner table, which does not apply to an "+
					"outpatient institutional claim): %s and %s on one date of service were not checked against a PTP edit "+
					"(NCCI Policy Manual ch. I §E; CMS publishes separate hospital outpatient PTP edits)", bs[i].code, bs[j].code)
		}
	}
}

// The NCCI-associated modifiers, as the NCCI Policy Manual for Medicare
// Services lists them (ch. I §E "Modifiers and Modifier Indicators") and
// the PTP file README repeats. On a PTP pair with modifier indicator 1 one
// of them on the right line bypasses the edit; with indicator 0 nothing
// does.
var (
	// distinctModifiers are 59 (distinct procedural service) and its
	// subsets XE, XP, XS, XU (CMS CR8863, MLN1783722). CPT defines 59 for
	// services "other than E/M services": on an E/M code they are an error
	// (NCCI_59_ON_EM), never a bypass.
	distinctModifiers = []string{"59", "XE", "XP", "XS", "XU"}
	// anatomicModifiers name the site: eyelids, fingers, toes, side and
	// coronary arteries.
	anatomicModifiers = []string{"E1", "E2", "E3", "E4", "FA", "F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9",
		"TA", "T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8", "T9", "LT", "RT", "LC", "LD", "LM", "RC", "RI"}
	// procedureModifiers are the global-surgery modifiers of procedures
	// (58 staged, 78 return to the OR, 79 unrelated procedure in the
	// postoperative period) and 91 (repeat clinical diagnostic laboratory
	// test).
	procedureModifiers = []string{"58", "78", "79", "91"}
	// emModifiers qualify an E/M service: 25 (significant, separately
	// identifiable E/M), 57 (decision for surgery), 24 (unrelated E/M in a
	// postoperative period), 27 (multiple outpatient hospital E/M
	// encounters). They bypass only from the E/M line of the pair.
	emModifiers = []string{"24", "25", "27", "57"}
)

// isEM reports whether code is a CPT Evaluation and Management service:
// the E/M section ranges 99202-99499 and the telemedicine E/M services
// 98000-98016 (CPT 2025).
func isEM(code string) bool {
	if len(code) != 5 {
		return false
	}
	n, err := strconv.Atoi(code)
	if err != nil {
		return false
	}
	return n >= 99202 && n <= 99499 || n >= 98000 && n <= 98016
}

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

// mue applies the NCCI Medically Unlikely Edits (NCCI Policy Manual ch. I
// §V; CMS "MUE" page): units per line for adjudication indicator 1, summed
// per code and date of service for indicators 2 and 3. Indicator 1 and 2
// are errors (2 is a policy limit that is not paid above the value, even on
// appeal); indicator 3 (clinical) is a warning: units above it are paid only
// when the record documents their medical necessity, so a person decides.
// A value of 0 means Medicare does not pay the code for this provider type
// on that date: an error for a Medicare payer, a warning otherwise
// (MUE_ZERO). Lines whose MUE could not be looked up (no table for the
// date, or a partial table that does not list the code) get one
// NO_RELEASE_FOR_DOS warning, on the unchecked line with the most units.
func (k *checker) mue() {
	type key struct {
		code string
		day  time.Time
	}
	var order []key
	total, last, mues := map[key]int{}, map[key]int{}, map[key]codes.MUE{}
	zero := map[key]bool{}
	var unchecked []uncheckedLine
	for _, b := range k.billedLines() {
		m, err := k.lk.MUE(k.ctx, b.code, b.day)
		switch k.classify(err) {
		case noRelease:
			unchecked = append(unchecked, uncheckedLine{b, errors.Is(err, codes.ErrMUEPartial)})
			continue
		case found:
		default:
			continue
		}
		kk := key{b.code, b.day}
		switch {
		case m.MaxUnits == 0:
			if !zero[kk] {
				zero[kk] = true
				k.mueZero(m, b.idx)
			}
		case m.Indicator == codes.MAILine:
			k.mueExceeded(m, b.line.Units, b.idx, "line")
		default: // 2, 3, and anything else summed per day (the stricter check)
			if _, ok := total[kk]; !ok {
				order = append(order, kk)
			}
			total[kk] += max(b.line.Units, 0)
			last[kk], mues[kk] = b.idx, m
		}
	}
	for _, kk := range order {
		k.mueExceeded(mues[kk], total[kk], last[kk], "date of service")
	}
	k.mueUnchecked(unchecked)
}

// uncheckedLine is a line whose MUE was not looked up: no MUE release for
// its date, or (partial) a partial release that does not list its code.
type uncheckedLine struct {
	billed
	partial bool
}

// mueUnchecked warns once that the units of some lines were not checked
// against an MUE, targeting the unchecked line with the most units (the
// first of them on a tie).
func (k *checker) mueUnchecked(unchecked []uncheckedLine) {
	if len(unchecked) == 0 || k.warned[codes.MUETable] {
		return
	}
	k.warned[codes.MUETable] = true
	worst := slices.MaxFunc(unchecked, func(a, b uncheckedLine) int { return a.line.Units - b.line.Units })
	target := fmt.Sprintf("lines[%d].units", worst.idx)
	if !worst.partial {
		k.note(NoReleaseForDOS, codes.MUETable, target, "%s", noReleaseMessage(codes.MUETable, worst.day))
		return
	}
	k.note(NoReleaseForDOS, codes.MUETable, target,
		"the MUE table loaded for the date of service is a partial extract (date-of-service clinical edits only) that does not list %s; "+
			"its units were not checked against an MUE: load the full CMS practitioner MUE table", worst.code)
}

// mueExceeded reports units above the MUE value: MUE_EXCEEDED (error) for
// adjudication indicators 1 and 2, MUE_EXCEEDED_CLINICAL (warning) for 3.
func (k *checker) mueExceeded(m codes.MUE, units, idx int, per string) {
	if units <= m.MaxUnits {
		return
	}
	target := fmt.Sprintf("lines[%d].units", idx)
	switch m.Indicator {
	case codes.MAIDOSClinic:
		k.add(MUEExceededClinical, Warning, target,
			"%d units of %s exceed its MUE of %d per date of service (MUE adjudication indicator 3, clinical): "+
				"the units above the MUE are payable only when the medical record documents their medical necessity; "+
				"a person must review (NCCI Policy Manual ch. I §V, Medically Unlikely Edits)", units, m.Code, m.MaxUnits)
	case codes.MAILine:
		k.add(MUEExceeded, Error, target,
			"%d units of %s exceed its MUE of %d per line (MUE adjudication indicator 1, claim line edit): "+
				"report the units on separate lines only with the modifiers that make them distinct (NCCI Policy Manual ch. I §V)",
			units, m.Code, m.MaxUnits)
	default:
		k.add(MUEExceeded, Error, target,
			"%d units of %s exceed its MUE of %d per %s (MUE adjudication indicator %d, policy): "+
				"units above it are not payable (NCCI Policy Manual ch. I §V)", units, m.Code, m.MaxUnits, per, m.Indicator)
	}
}

// mueZero reports an MUE of 0: the code is not payable by Medicare for
// this provider type (practitioner services) on the date of service.
// Other payers do not follow Medicare coverage, so it is a warning there.
func (k *checker) mueZero(m codes.MUE, idx int) {
	target := fmt.Sprintf("lines[%d].code", idx)
	if k.c.Medicare {
		k.add(MUEZero, Error, target,
			"%s has an MUE of 0 for practitioner services: Medicare does not pay it for this provider type on this date "+
				"(CMS MUE table; NCCI Policy Manual ch. I §V)", m.Code)
		return
	}
	k.add(MUEZero, Warning, target,
		"%s has a Medicare MUE of 0 for practitioner services (Medicare does not pay it for this provider type); "+
			"the payer is not recognised as Medicare (CODEBRIDGE_MEDICARE_PAYERS): check this payer's own policy", m.Code)
}

// ptp checks every pair of lines on the same date of service against the
// NCCI procedure-to-procedure edits, in both column orders, after flagging
// 59 and X{EPSU} on E/M codes.
func (k *checker) ptp() {
	k.distinctOnEM()
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

// distinctOnEM reports 59, XE, XP, XS or XU on an E/M code (NCCI_59_ON_EM):
// CPT defines 59 for services other than E/M, and the NCCI Policy Manual
// (ch. I §E; ch. XI, E/M services) says it may not be used with E/M codes;
// a separately identifiable E/M takes 25 (or 57).
func (k *checker) distinctOnEM() {
	for i, l := range k.c.Lines {
		if !isEM(codes.Normalize(codes.CPT, l.Code)) {
			continue
		}
		for j, m := range l.Modifiers {
			if slices.Contains(distinctModifiers, normMod(m)) {
				k.add(NCCI59OnEM, Error, fmt.Sprintf("lines[%d].modifiers[%d]", i, j),
					"modifier %s may not be used with the E/M service %s (CPT: 59 is for services other than E/M; NCCI Policy Manual ch. I §E and ch. XI): "+
						"a significant, separately identifiable E/M takes 25", normMod(m), l.Code)
			}
		}
	}
}

// pair applies the edit with col1 in column 1, if any, and reports whether
// one exists. Indicator 0 is never bypassed; indicator 9 is not an edit;
// indicator 1 is bypassed by an NCCI-associated modifier on the right line
// (bypassed).
func (k *checker) pair(col1, col2 billed) bool {
	p, err := k.lk.PTP(k.ctx, col1.code, col2.code, col1.day)
	switch k.classify(err) {
	case noRelease:
		k.noRelease(codes.PTPTable, col1.day, fmt.Sprintf("lines[%d].code", col2.idx))
		return true
	case found:
	default:
		return false
	}
	target := fmt.Sprintf("lines[%d]", col2.idx)
	switch {
	case p.Modifier == 9:
		return false // not applicable: no edit in this order
	case p.Modifier == 0:
		k.add(NCCIPTPNoModifier, Error, target+".code",
			"NCCI PTP: %s is not payable with %s on the same date (modifier indicator 0: no modifier bypasses it; NCCI Policy Manual ch. I §E)",
			col2.code, col1.code)
	case k.bypassedWarning(col1, col2):
	case isEM(col2.code):
		k.add(NCCIPTP, Error, target+".modifiers",
			"NCCI PTP: the E/M %s is bundled into %s (modifier indicator 1); append 25 (or 57, 24, 27 as they apply) to %s "+
				"only if the record documents a significant, separately identifiable E/M service (NCCI Policy Manual ch. I §E)",
			col2.code, col1.code, col2.code)
	case isEM(col1.code):
		k.add(NCCIPTP, Error, target+".modifiers",
			"NCCI PTP: %s is bundled into the E/M %s (modifier indicator 1); append 25 to the E/M %s if it was significant and separately "+
				"identifiable, or an NCCI-associated modifier (59, XE, XP, XS, XU, anatomic) to %s only if the service was distinct (NCCI Policy Manual ch. I §E)",
			col2.code, col1.code, col1.code, col2.code)
	default:
		k.add(NCCIPTP, Error, target+".modifiers",
			"NCCI PTP: %s is bundled into %s (modifier indicator 1); append an NCCI-associated modifier (59, XE, XP, XS, XU, an anatomic "+
				"modifier of another site, 58, 78, 79, 91) to %s only if the record documents a distinct service (NCCI Policy Manual ch. I §E)",
			col2.code, col1.code, col2.code)
	}
	return true
}

// bypassedWarning reports whether a modifier sent with the chart bypasses
// the modifier-indicator-1 pair col1/col2, and then warns
// (NCCI_PTP_BYPASSED) naming the pair and the modifier: a bypass is
// correct only when the record documents a distinct service (or, for 25
// and 57, a significant, separately identifiable E/M), and modifiers 59,
// X{EPSU} and 25 are what auditors examine hardest (HHS OIG, "Use of
// Modifier 59 to Bypass Medicare's National Correct Coding Initiative
// Edits", 2005; "Use of Modifier 25", 2005). A
// chart warning: it stops straight-through coding unless a site lists
// NCCI_PTP_BYPASSED in CODEBRIDGE_AUTOCODE_ALLOW_WARNINGS.
func (k *checker) bypassedWarning(col1, col2 billed) bool {
	b, mod, ok := bypassed(col1, col2)
	if !ok {
		return false
	}
	what := "a distinct service (a different session, procedure, site or encounter)"
	if slices.Contains(emModifiers, normMod(b.line.Modifiers[mod])) {
		what = "a distinct service: a significant, separately identifiable E/M beyond the usual pre- and post-service work"
	}
	k.add(NCCIPTPBypassed, Warning, fmt.Sprintf("lines[%d].modifiers[%d]", b.idx, mod),
		"NCCI PTP: modifier %s on %s bypasses the edit %s (column 1) / %s (column 2), modifier indicator 1; "+
			"confirm the documentation supports %s (NCCI Policy Manual ch. I §E)",
		normMod(b.line.Modifiers[mod]), b.code, col1.code, col2.code, what)
	return true
}

// bypassed reports whether an NCCI-associated modifier on the right line
// lets a modifier-indicator-1 pair be paid (NCCI Policy Manual ch. I §E;
// PTP file README: the modifier goes on the column 2 code), and which:
// the line (col1 or col2) and the index of the modifier on it.
//
//   - E/M modifiers (25, 57, 24, 27) on the E/M line of the pair, whichever
//     column it is in (the E/M exception); when both codes are E/M, on the
//     column 2 one;
//   - on a column 2 code that is not E/M: 59, XE, XP, XS, XU; 58, 78, 79,
//     91; an anatomic modifier that the column 1 line does not carry too
//     (the same site is not a different site).
//
// Nothing else bypasses: a modifier on the column 1 line of a non-E/M pair,
// or 59/X{EPSU} on an E/M line (an error of its own, NCCI_59_ON_EM).
func bypassed(col1, col2 billed) (billed, int, bool) {
	if isEM(col2.code) { // only the column 2 E/M's own modifier makes it separately payable
		i := modifierIndex(col2.line, emModifiers)
		return col2, i, i >= 0
	}
	if isEM(col1.code) {
		if i := modifierIndex(col1.line, emModifiers); i >= 0 {
			return col1, i, true
		}
	}
	if i := modifierIndex(col2.line, distinctModifiers); i >= 0 {
		return col2, i, true
	}
	if i := modifierIndex(col2.line, procedureModifiers); i >= 0 {
		return col2, i, true
	}
	for i, m := range col2.line.Modifiers {
		if m = normMod(m); slices.Contains(anatomicModifiers, m) && !hasModifier(col1.line, []string{m}) {
			return col2, i, true
		}
	}
	return col2, -1, false
}

// modifierIndex is the index of the first modifier of l in mods, or -1.
func modifierIndex(l Line, mods []string) int {
	return slices.IndexFunc(l.Modifiers, func(m string) bool { return slices.Contains(mods, normMod(m)) })
}

// normMod is a modifier as the tables spell it: trimmed, upper case.
func normMod(m string) string { return strings.ToUpper(strings.TrimSpace(m)) }
