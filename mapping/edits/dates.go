package edits

import (
	"fmt"
	"slices"
	"time"

	"github.com/codebridge/codebridge/mapping/codes"
)

// dosRule is the source every date-of-service edit cites.
const dosRule = "codes are valid by date of service (by discharge date for inpatient stays) and ICD-10-CM/PCS releases take effect each October 1 " +
	"(Medicare Claims Processing Manual, Pub. 100-04, ch. 23, sec. 10.2)"

// systemNames are the code systems as a coder names them.
var systemNames = map[codes.System]string{
	codes.ICD10CM: "ICD-10-CM", codes.ICD10PCS: "ICD-10-PCS", codes.HCPCS: "HCPCS",
	codes.HCPCSModifier: "HCPCS modifier", codes.CPT: "CPT",
}

// dischargeDate warns when an inpatient stay billed on an institutional
// claim has no discharge date: its code sets were chosen by the admission
// date instead, which CMS does not do (see Chart.codeSetDate), so a person
// confirms the stay is over and its dates.
func (k *checker) dischargeDate() {
	if k.c.InpatientClaim() && k.c.End.IsZero() {
		k.add(NoDischargeDate, Warning, "encounter.end",
			"the inpatient stay has no discharge date (Encounter.period.end): its codes were checked against the releases in force on the admission date %s, "+
				"but CMS assigns the ICD-10-CM/PCS release of an inpatient claim by discharge date", day(k.c.Start))
	}
}

// dxDates are the dates of service diagnosis i (0-based) is checked on.
// On a professional claim each line has its own date of service (CMS-1500
// item 24A), so a diagnosis must be valid on the date of every line that
// points to it; a diagnosis no line points to, and every diagnosis of an
// institutional claim, is checked on the chart's code-set date.
func (k *checker) dxDates(i int) []time.Time {
	var ds []time.Time
	if k.c.ClaimType == Professional {
		for _, l := range k.c.Lines {
			if !slices.Contains(l.Diagnoses, i+1) {
				continue
			}
			if d := codes.Day(k.lineDate(l)); !slices.ContainsFunc(ds, d.Equal) {
				ds = append(ds, d)
			}
		}
	}
	if len(ds) == 0 {
		ds = []time.Time{k.c.codeSetDate()}
	}
	return ds
}

// lifetime reports CODE_NOT_YET_VALID or CODE_DELETED when the loaded
// releases of system show that code was added after dos, or deleted on or
// before it (codes.History.On) — also when no release governing dos is
// loaded — and reports whether it did.
func (k *checker) lifetime(system codes.System, code string, dos time.Time, target string) bool {
	h, err := k.lk.History(k.ctx, system, code)
	if k.classify(err) != found {
		return false
	}
	lt := h.On(dos)
	what := fmt.Sprintf("%s %s", systemNames[system], codes.Display(system, code))
	switch lt.State {
	case codes.NotYetValid:
		k.add(CodeNotYetValid, Error, target, "%s is not yet valid on the date of service %s: %s; %s",
			what, day(dos), lt.Explanation, dosRule)
	case codes.Deleted:
		k.add(CodeDeleted, Error, target, "%s is no longer valid on the date of service %s: %s; %s",
			what, day(dos), lt.Explanation, dosRule)
	default:
		return false
	}
	return true
}
