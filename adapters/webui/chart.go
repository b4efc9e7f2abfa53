package webui

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// chartData is the chart page.
type chartData struct {
	Item       workitem.Item
	Patient    *workitem.PatientView
	Encounter  workitem.EncounterView
	Payers     []string
	Documents  []docView
	Conditions []workitem.DocumentedItem
	Procedures []workitem.DocumentedItem
	Suggested  []workitem.SuggestedCode
	Queries    []workitem.Query
	History    []workitem.Transition
	Notes      []string
	Pane       paneView
	CSRF       string
	CanQuery   bool // the coder holding the lease may query the physician
	CanAnswer  bool // a coder may record a physician's answer
	Audit      *auditView
	QA         *workitem.QAReview
	Message    string
	Lease      string
}

type docView struct {
	Reference, Type, Date, URL string
	Segments                   []segment
}

// auditView is the auditor's side: the coder's codes beside the current
// ones, and what changed so far.
type auditView struct {
	Coder   string
	Codes   paneView
	Changes []string
}

var chartMessages = map[string]string{
	"query-sent": "Query sent to the physician. The chart is on hold until it is answered.",
	"answered":   "Answer recorded. The chart is back at the top of the queue.",
}

// chart shows one chart: documents with evidence marked, the documented
// conditions and procedures, the code pane, queries and history.
func (h *Handler) chart(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx, id := r.Context(), r.PathValue("id")
	it, hist, err := h.o.Items.GetItem(ctx, id)
	if err != nil {
		return err
	}
	h.audit(ctx, s, id, "chart.view")
	if err := h.o.State.SetUILastChart(ctx, s.idHash, id); err != nil {
		return err
	}
	d := chartData{Item: it, History: hist, Queries: it.Queries, CSRF: s.CSRF, Message: chartMessages[r.URL.Query().Get("msg")]}
	if c := it.Chart; c != nil {
		d.Patient, d.Encounter, d.Conditions, d.Procedures, d.Suggested, d.Notes = c.PatientSummary, c.Encounter, c.Conditions, c.Procedures, c.SuggestedCodes, c.Notes
		d.Payers = payers(c)
		terms := evidenceTerms(c)
		for _, doc := range c.Documents {
			d.Documents = append(d.Documents, docView{Reference: doc.Reference, Type: doc.Type, Date: doc.Date, URL: doc.URL, Segments: highlight(doc.Text, terms)})
		}
	}
	if d.Pane, err = h.paneFor(ctx, it, s); err != nil {
		return err
	}
	d.Pane.CSRF = s.CSRF
	d.CanQuery = workitem.MayOpenQuery(it, s.actor()) == nil
	d.CanAnswer = workitem.MayAnswerQuery(s.Role) == nil
	if it.LeaseExpires != nil && it.Status == workitem.InProgress {
		d.Lease = it.LeaseExpires.UTC().Format("15:04 UTC")
	}
	if d.Audit, err = h.auditSide(ctx, it, s); err != nil {
		return err
	}
	if it.Status == workitem.Completed {
		if qa, err := h.o.Items.QAReviewOf(ctx, id); err == nil {
			d.QA = &qa
		}
	}
	h.renderPage(w, r, s, http.StatusOK, "chart.html", "Chart", d)
	return nil
}

// audit records a read of patient data, when an audit log is wired.
func (h *Handler) audit(ctx context.Context, s *session, id, action string) {
	if h.o.Audit != nil {
		h.o.Audit(ctx, ChartAccess{Principal: s.Principal, Role: s.Role, WorkItemID: id, Action: action})
	}
}

// auditSide answers the auditor's comparison for an item in review.
func (h *Handler) auditSide(ctx context.Context, it workitem.Item, s *session) (*auditView, error) {
	if it.Status != workitem.InReview || workitem.MayCode(it, s.actor()) != nil {
		return nil, nil
	}
	coderAs, coder, ok, err := h.o.Items.CoderCodes(ctx, it.ID)
	if err != nil || !ok {
		return nil, err
	}
	var current workitem.Assignment
	if it.Codes != nil {
		current = *it.Codes
	}
	return &auditView{Coder: coder, Codes: h.newPane(ctx, it, draftOf(coderAs, it.Version), false, nil),
		Changes: describeDiff(workitem.CompareAssignments(coderAs, current))}, nil
}

// describeDiff says in words what an auditor changed.
func describeDiff(d workitem.QADiff) []string {
	var out []string
	add := func(n int, one, many string) {
		switch {
		case n == 1:
			out = append(out, "1 "+one)
		case n > 1:
			out = append(out, itoa(n)+" "+many)
		}
	}
	add(d.DiagnosesAdded, "diagnosis added", "diagnoses added")
	add(d.DiagnosesRemoved, "diagnosis removed", "diagnoses removed")
	add(d.POAChanged, "POA indicator changed", "POA indicators changed")
	if d.Resequenced {
		out = append(out, "diagnoses resequenced")
	}
	add(d.LinesAdded, "service line added", "service lines added")
	add(d.LinesRemoved, "service line removed", "service lines removed")
	add(d.LinesChanged, "service line changed", "service lines changed")
	add(d.ProceduresAdded, "procedure added", "procedures added")
	add(d.ProceduresRemoved, "procedure removed", "procedures removed")
	return out
}

// unnamedPayer stands for an active Coverage whose payer has no name on
// the chart.
const unnamedPayer = "coverage on file (payer not named)"

// payers lists the patient's payers in coverage order.
func payers(c *workitem.Chart) []string {
	cov := slices.Clone(c.Coverage)
	slices.SortStableFunc(cov, func(a, b workitem.CoverageView) int { return orderOf(a) - orderOf(b) })
	var out []string
	for _, cv := range cov {
		switch {
		case cv.Status != "" && cv.Status != "active":
		case cv.Payor != "":
			out = append(out, cv.Payor)
		default:
			out = append(out, unnamedPayer)
		}
	}
	return out
}

func orderOf(c workitem.CoverageView) int {
	if c.Order == 0 {
		return 1000
	}
	return c.Order
}

// encounterDates says when the encounter took place.
func encounterDates(e workitem.EncounterView) string {
	var out string
	if e.Start != nil {
		out = e.Start.UTC().Format("2006-01-02 15:04")
	}
	if e.End != nil {
		if e.Start != nil && e.Start.UTC().Format(time.DateOnly) == e.End.UTC().Format(time.DateOnly) {
			out += "–" + e.End.UTC().Format("15:04")
		} else {
			out += " – " + e.End.UTC().Format("2006-01-02 15:04")
		}
	}
	if out != "" {
		out += " UTC"
	}
	return out
}
