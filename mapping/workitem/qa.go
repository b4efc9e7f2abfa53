package workitem

import (
	"slices"
	"time"
)

// QADiff is what an auditor changed in a coder's assignment: the accuracy
// record of one reviewed work item.
type QADiff struct {
	DiagnosesAdded    int  `json:"diagnosesAdded"`
	DiagnosesRemoved  int  `json:"diagnosesRemoved"`
	POAChanged        int  `json:"poaChanged"`
	Resequenced       bool `json:"resequenced"` // principal changed or the kept diagnoses reordered
	LinesAdded        int  `json:"linesAdded"`
	LinesRemoved      int  `json:"linesRemoved"`
	LinesChanged      int  `json:"linesChanged"` // same code, other modifiers, units or pointed diagnoses
	ProceduresAdded   int  `json:"proceduresAdded"`
	ProceduresRemoved int  `json:"proceduresRemoved"`
}

// Accurate reports whether the auditor changed nothing.
func (d QADiff) Accurate() bool { return d == QADiff{} }

// QAReview is the stored accuracy record of one reviewed item.
type QAReview struct {
	WorkItemID string    `json:"workItemId"`
	Coder      string    `json:"coder"`
	Auditor    string    `json:"auditor"`
	ReviewedAt time.Time `json:"reviewedAt"`
	Accurate   bool      `json:"accurate"`
	QADiff
}

// CompareAssignments answers what changed from the coder's assignment to
// the auditor's final one. Diagnoses and procedures are matched by code;
// lines by code in order (a repeated code pairs with its next occurrence),
// and a matched line has changed when its modifiers (as a set), units, or
// the diagnosis codes its pointers name differ.
func CompareAssignments(coder, final Assignment) QADiff {
	var d QADiff
	cdx, fdx := dxCodes(coder), dxCodes(final)
	cpoa := map[string]string{}
	for _, x := range coder.Diagnoses {
		cpoa[x.Code] = x.POA
	}
	for _, x := range final.Diagnoses {
		p, ok := cpoa[x.Code]
		switch {
		case !ok:
			d.DiagnosesAdded++
		case p != x.POA:
			d.POAChanged++
		}
	}
	for _, c := range cdx {
		if !slices.Contains(fdx, c) {
			d.DiagnosesRemoved++
		}
	}
	if len(cdx) > 0 && len(fdx) > 0 && cdx[0] != fdx[0] {
		d.Resequenced = true
	}
	// Relative order of the diagnoses both kept.
	var ck, fk []string
	for _, c := range cdx {
		if slices.Contains(fdx, c) {
			ck = append(ck, c)
		}
	}
	for _, f := range fdx {
		if slices.Contains(cdx, f) {
			fk = append(fk, f)
		}
	}
	if !slices.Equal(ck, fk) {
		d.Resequenced = true
	}

	used := make([]bool, len(coder.Lines))
	for _, fl := range final.Lines {
		match := -1
		for i, cl := range coder.Lines {
			if !used[i] && cl.Code == fl.Code {
				match = i
				break
			}
		}
		if match < 0 {
			d.LinesAdded++
			continue
		}
		used[match] = true
		if !sameLine(coder.Lines[match], cdx, fl, fdx) {
			d.LinesChanged++
		}
	}
	for _, u := range used {
		if !u {
			d.LinesRemoved++
		}
	}

	cp, fp := procCodes(coder), procCodes(final)
	for _, f := range fp {
		if !slices.Contains(cp, f) {
			d.ProceduresAdded++
		}
	}
	for _, c := range cp {
		if !slices.Contains(fp, c) {
			d.ProceduresRemoved++
		}
	}
	return d
}

func dxCodes(a Assignment) []string {
	out := make([]string, len(a.Diagnoses))
	for i, x := range a.Diagnoses {
		out[i] = x.Code
	}
	return out
}

func procCodes(a Assignment) []string {
	out := make([]string, len(a.Procedures))
	for i, x := range a.Procedures {
		out[i] = x.Code
	}
	return out
}

func sameLine(a AssignedLine, adx []string, b AssignedLine, bdx []string) bool {
	if a.Units != b.Units {
		return false
	}
	am, bm := slices.Clone(a.Modifiers), slices.Clone(b.Modifiers)
	slices.Sort(am)
	slices.Sort(bm)
	if !slices.Equal(am, bm) {
		return false
	}
	return slices.Equal(pointed(a.Diagnoses, adx), pointed(b.Diagnoses, bdx))
}

// pointed resolves 1-based diagnosis pointers to the codes they name.
func pointed(ptrs []int, dx []string) []string {
	out := make([]string, len(ptrs))
	for i, p := range ptrs {
		if p >= 1 && p <= len(dx) {
			out[i] = dx[p-1]
		}
	}
	return out
}

// ReportRange limits a report to days From..To (inclusive, UTC); a zero
// bound is open.
type ReportRange struct {
	From time.Time
	To   time.Time
}

// AgeBucket counts not-completed items by days since discharge.
type AgeBucket struct {
	Bucket string `json:"bucket"` // 0-3, 4-7, 8-14, 15-30, >30
	MinDay int    `json:"minDays"`
	MaxDay *int   `json:"maxDays,omitempty"` // none for the open >30 bucket
	Count  int    `json:"count"`
}

// BacklogReport is the backlog by status and by age.
type BacklogReport struct {
	AsOf     time.Time      `json:"asOf"`
	ByStatus map[Status]int `json:"byStatus"`
	// Open counts items neither completed nor cancelled; ByAge splits them
	// by whole days since discharge (the service end; the service start or
	// the item's creation when the Encounter has none).
	Open  int         `json:"open"`
	ByAge []AgeBucket `json:"byAge"`
	// DNFB counts discharged-not-final-billed items over 30 days (the >30
	// bucket).
	DNFB int `json:"dnfb"`
}

// CoderDay is one coder's output on one day.
type CoderDay struct {
	Date  string `json:"date"` // YYYY-MM-DD (UTC)
	Items int    `json:"items"`
	Lines int    `json:"lines"`
}

// CoderProductivity is one coder's output over a report's range.
type CoderProductivity struct {
	Coder       string     `json:"coder"`
	Items       int        `json:"items"`
	Lines       int        `json:"lines"`
	ItemsPerDay float64    `json:"itemsPerDay"` // over the days the coder coded
	LinesPerDay float64    `json:"linesPerDay"`
	Days        []CoderDay `json:"days"`
}

// ProductivityReport is items coded (transitions to coded) and their
// service lines, per coder and day.
type ProductivityReport struct {
	From   string              `json:"from"`
	To     string              `json:"to"`
	Coders []CoderProductivity `json:"coders"`
}

// CoderAccuracy sums one coder's QA records.
type CoderAccuracy struct {
	Coder    string  `json:"coder"`
	Reviewed int     `json:"reviewed"`
	Accurate int     `json:"accurate"`
	Rate     float64 `json:"accuracyRate"` // accurate / reviewed
	// Totals of the changes auditors made; Resequenced counts items.
	QADiffTotals
}

// QADiffTotals sums QADiffs.
type QADiffTotals struct {
	DiagnosesAdded    int `json:"diagnosesAdded"`
	DiagnosesRemoved  int `json:"diagnosesRemoved"`
	POAChanged        int `json:"poaChanged"`
	Resequenced       int `json:"resequenced"`
	LinesAdded        int `json:"linesAdded"`
	LinesRemoved      int `json:"linesRemoved"`
	LinesChanged      int `json:"linesChanged"`
	ProceduresAdded   int `json:"proceduresAdded"`
	ProceduresRemoved int `json:"proceduresRemoved"`
}

// AccuracyReport is accuracy per coder from QA reviews.
type AccuracyReport struct {
	Coders []CoderAccuracy `json:"coders"`
}

// QueryReport is physician-query volume and turnaround (asked → answered).
type QueryReport struct {
	Count                 int      `json:"count"`
	Open                  int      `json:"open"`
	Answered              int      `json:"answered"`
	MedianTurnaroundHours *float64 `json:"medianTurnaroundHours"` // null when none answered
	P90TurnaroundHours    *float64 `json:"p90TurnaroundHours"`
}

// StraightThroughReport is the share of completed items coded by the auto
// coder, and what the straight-through coder decided on the charts it
// looked at, with the reasons it left charts to coders.
type StraightThroughReport struct {
	Completed  int     `json:"completed"`
	AutoCoded  int     `json:"autoCoded"`
	CoderCoded int     `json:"coderCoded"`
	Rate       float64 `json:"rate"` // autoCoded / completed; 0 when none completed
	// Looked is how many charts the straight-through coder decided on in
	// the range (by the time of its last decision on each): Passed it
	// coded, Skipped it left to coders.
	Looked  int `json:"looked"`
	Passed  int `json:"passed"`
	Skipped int `json:"skipped"`
	// PassRate is Passed / Looked, the straight-through pass rate; 0 when it
	// looked at none.
	PassRate float64 `json:"passRate"`
	// Reasons count the skipped charts per reason code (a chart counts
	// once per code), most frequent first, then by code.
	Reasons []ReasonCount `json:"reasons"`
}

// ReasonCount is how many charts one straight-through reason stopped.
type ReasonCount struct {
	Code  string `json:"code"`
	Count int    `json:"count"`
}
