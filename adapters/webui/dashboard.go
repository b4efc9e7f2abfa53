package webui

import (
	"net/http"
	"strconv"
	"time"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// barChart is a horizontal bar chart drawn as server-side SVG, with its
// data also given as a table for screen readers and keyboard users.
type barChart struct {
	ID, Title, Desc string
	Bars            []barGeom
	Width, Height   int
	Empty           string // said instead of the chart when there are no bars
}

type barGeom struct {
	Label, Text  string
	Y, W, TextX  int
	TextY, BarH  int
	Value        float64
	LabelX, BarX int
}

// bar is one value to draw; Text is how the value is written.
type bar struct {
	Label string
	Value float64
	Text  string
}

const (
	chartWidth  = 680
	labelWidth  = 170
	valueRoom   = 180
	rowHeight   = 30
	barHeight   = 20
	chartMargin = 8
)

// newBarChart lays out bars against the largest value (or max, when set).
func newBarChart(id, title, desc string, bars []bar, maxValue float64) barChart {
	c := barChart{ID: id, Title: title, Desc: desc, Width: chartWidth}
	for _, b := range bars {
		maxValue = max(maxValue, b.Value)
	}
	span := float64(chartWidth - labelWidth - valueRoom)
	for i, b := range bars {
		w := 0
		if maxValue > 0 {
			w = int(b.Value / maxValue * span)
		}
		if b.Value > 0 && w < 2 {
			w = 2
		}
		y := chartMargin + i*rowHeight
		c.Bars = append(c.Bars, barGeom{Label: b.Label, Text: b.Text, Value: b.Value, Y: y, W: w, BarH: barHeight,
			LabelX: labelWidth - 10, BarX: labelWidth, TextX: labelWidth + w + 6, TextY: y + barHeight/2 + 5})
	}
	c.Height = chartMargin*2 + len(bars)*rowHeight
	if len(bars) == 0 {
		c.Empty = "No data in this period."
	}
	return c
}

// dashboardData is the supervisor dashboard.
type dashboardData struct {
	From, To      string
	Backlog       workitem.BacklogReport
	Charts        []barChart
	Queries       workitem.QueryReport
	Straight      workitem.StraightThroughReport
	MedianHours   string
	P90Hours      string
	Errors        []string
	StraightShare string
	PassShare     string // the straight-through coder's pass rate over the charts it looked at
	// CodeSetDate and CodeSetGaps are, for an admin, today's date and the
	// code sets no loaded release covers today (see codeSetGaps).
	CodeSetDate string
	CodeSetGaps []codeSetGap
}

// codeSetGap is one code set without a release for today, as the admin's
// banner shows it.
type codeSetGap struct {
	System, Missing, Hint, Impact string
}

// codeSetGaps answers, for an admin, the code sets no loaded release covers
// today with the release to load and how (codes.Coverage); nothing for
// other roles, and nothing (logged) when the coverage cannot be read: the
// dashboard never fails for it.
func (h *Handler) codeSetGaps(r *http.Request, s *session) (string, []codeSetGap) {
	if h.o.CodeSets == nil || s.Role != workitem.RoleAdmin {
		return "", nil
	}
	today, cov, err := h.o.CodeSets(r.Context())
	if err != nil {
		h.o.Logger.WarnContext(r.Context(), "code-set coverage unavailable", "error", err.Error())
		return "", nil
	}
	var gaps []codeSetGap
	for _, c := range cov {
		if !c.Covered {
			gaps = append(gaps, codeSetGap{System: string(c.System), Missing: c.Missing.String(), Hint: c.Hint, Impact: c.Impact})
		}
	}
	return today.Format(time.DateOnly), gaps
}

// dashboard reads the reports (the store methods behind /api/v1/reports)
// and draws them.
func (h *Handler) dashboard(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	d := dashboardData{}
	rg, errs := dashboardRange(r, h.o.Now().UTC())
	d.Errors, d.From, d.To = errs, rg.From.Format(time.DateOnly), rg.To.Format(time.DateOnly)
	var err error
	if d.Backlog, err = h.o.Reports.Backlog(ctx); err != nil {
		return err
	}
	prod, err := h.o.Reports.Productivity(ctx, rg)
	if err != nil {
		return err
	}
	acc, err := h.o.Reports.Accuracy(ctx, rg)
	if err != nil {
		return err
	}
	if d.Queries, err = h.o.Reports.Queries(ctx, rg); err != nil {
		return err
	}
	if d.Straight, err = h.o.Reports.StraightThrough(ctx, rg); err != nil {
		return err
	}
	d.Charts = dashboardCharts(d.Backlog, prod, acc, d.Queries, d.Straight)
	d.MedianHours, d.P90Hours = hours(d.Queries.MedianTurnaroundHours), hours(d.Queries.P90TurnaroundHours)
	d.StraightShare = strconv.FormatFloat(d.Straight.Rate*100, 'f', 1, 64) + "%"
	d.PassShare = strconv.FormatFloat(d.Straight.PassRate*100, 'f', 1, 64) + "%"
	d.CodeSetDate, d.CodeSetGaps = h.codeSetGaps(r, s)
	h.renderPage(w, r, s, http.StatusOK, "dashboard.html", "Dashboards", d)
	return nil
}

func dashboardCharts(b workitem.BacklogReport, p workitem.ProductivityReport, a workitem.AccuracyReport,
	q workitem.QueryReport, st workitem.StraightThroughReport) []barChart {
	var status, age, prod, acc, qs, auto []bar
	for _, s := range workitem.Statuses() {
		status = append(status, bar{statusLabel(s), float64(b.ByStatus[s]), itoa(b.ByStatus[s])})
	}
	for _, ab := range b.ByAge {
		age = append(age, bar{ab.Bucket + " days", float64(ab.Count), itoa(ab.Count)})
	}
	for _, c := range p.Coders {
		prod = append(prod, bar{c.Coder, float64(c.Items), itoa(c.Items) + " charts, " + itoa(c.Lines) + " lines"})
	}
	for _, c := range a.Coders {
		acc = append(acc, bar{c.Coder, c.Rate * 100, strconv.FormatFloat(c.Rate*100, 'f', 1, 64) + "% of " + itoa(c.Reviewed)})
	}
	qs = []bar{{"Answered", float64(q.Answered), itoa(q.Answered)}, {"Open", float64(q.Open), itoa(q.Open)}}
	auto = []bar{{"Straight-through", float64(st.AutoCoded), itoa(st.AutoCoded)}, {"Coded by coders", float64(st.CoderCoded), itoa(st.CoderCoded)}}
	var why []bar
	for _, r := range st.Reasons {
		why = append(why, bar{r.Code, float64(r.Count), itoa(r.Count)})
	}
	return []barChart{
		newBarChart("backlog-status", "Backlog by status", "Work items in each status now.", status, 0),
		newBarChart("backlog-age", "Open backlog by days since discharge", "Open items by whole days since discharge; over 30 days is DNFB.", age, 0),
		newBarChart("productivity", "Productivity: charts coded per coder", "Charts each coder coded in the period.", prod, 0),
		newBarChart("accuracy", "Accuracy per coder", "Share of QA-reviewed charts the auditor did not change.", acc, 100),
		newBarChart("queries", "Physician queries", "Queries raised in the period, by state.", qs, 0),
		newBarChart("straight-through", "Straight-through coding", "Completed charts coded automatically or by coders.", auto, 0),
		newBarChart("straight-through-reasons", "Why charts were left to coders",
			"Charts the straight-through coder left in the queue in the period, per reason code (a chart counts once per reason; see README, Straight-through coding).", why, 0),
	}
}

func hours(h *float64) string {
	if h == nil {
		return "—"
	}
	return strconv.FormatFloat(*h, 'f', 1, 64) + " h"
}

// dashboardRange reads from= and to= (default: the last 30 days).
func dashboardRange(r *http.Request, now time.Time) (workitem.ReportRange, []string) {
	rg := workitem.ReportRange{To: now.Truncate(24 * time.Hour)}
	rg.From = rg.To.AddDate(0, 0, -29)
	errs := append(parseDay("From", r.URL.Query().Get("from"), &rg.From), parseDay("To", r.URL.Query().Get("to"), &rg.To)...)
	if rg.To.Before(rg.From) {
		errs = append(errs, "To must not be before From.")
		rg.From = rg.To
	}
	return rg, errs
}
