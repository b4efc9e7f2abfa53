package webui

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// otherOption is offered on every multiple-choice query, as compliant
// query practice requires.
const otherOption = workitem.QueryOtherOption

// queryTemplate is a compliant starting text for a physician query:
// it asks, it does not lead, and it never mentions payment.
type queryTemplate struct {
	ID, Label, Question string
}

var queryTemplates = []queryTemplate{
	{"clarify", "Clarify a diagnosis", "Based on the clinical indicators below, can you please clarify the diagnosis being evaluated or treated? Please document your response in the medical record."},
	{"specificity", "Specificity (type, acuity, site)", "The clinical indicators below are documented. Can the type, acuity or site of this condition be further specified? Please document your clinical judgement in the medical record."},
	{"validation", "Clinical validation", "The diagnosis below is documented, and the clinical indicators below were found in the record. Can you please confirm whether the diagnosis is clinically supported, or ruled out?"},
	{"poa", "Present on admission", "Was the condition below present at the time of the inpatient admission? Please document in the medical record."},
}

// queryData is the query composer.
type queryData struct {
	Item       workitem.Item
	Templates  []queryTemplate
	Template   string
	Question   string
	Candidates []string // clinical indicators found on the chart
	Chosen     []string
	Extra      string // more indicators, one per line
	Options    []string
	Other      string
	Errors     []string
	CSRF       string
}

// queryForm shows the composer, prefilled from a template and the chart.
func (h *Handler) queryForm(w http.ResponseWriter, r *http.Request, s *session) error {
	it, err := h.queryItem(r, s)
	if err != nil {
		return err
	}
	h.audit(r.Context(), s, it.ID, "chart.query")
	d := queryData{Item: it, Templates: queryTemplates, Template: r.URL.Query().Get("template"), Options: make([]string, 4),
		Other: otherOption, CSRF: s.CSRF, Candidates: indicatorCandidates(it.Chart)}
	if d.Template == "" {
		d.Template = "clarify"
	}
	for _, t := range queryTemplates {
		if t.ID == d.Template {
			d.Question = t.Question
		}
	}
	h.renderPage(w, r, s, http.StatusOK, "query.html", "Physician query", d)
	return nil
}

// queryItem reads the item a query is composed for: only the coder
// holding it may query.
func (h *Handler) queryItem(r *http.Request, s *session) (workitem.Item, error) {
	it, _, err := h.o.Items.GetItem(r.Context(), r.PathValue("id"))
	if err != nil {
		return it, err
	}
	if workitem.MayOpenQuery(it, s.actor()) != nil {
		return it, workitem.Errorf(workitem.Conflict, "a query can be raised only on a chart you hold (it is %s)", statusLabel(it.Status))
	}
	return it, nil
}

// sendQuery checks the query against compliant query practice (the
// store's rule, workitem.CheckQuery) and opens it through the store, which
// puts the chart on hold.
func (h *Handler) sendQuery(w http.ResponseWriter, r *http.Request, s *session) error {
	it, err := h.queryItem(r, s)
	if err != nil {
		return err
	}
	f := r.PostForm
	d := queryData{Item: it, Templates: queryTemplates, Template: f.Get("template"), Question: strings.TrimSpace(f.Get("question")),
		Candidates: indicatorCandidates(it.Chart), Chosen: f["indicator"], Extra: f.Get("extra"), Other: otherOption, CSRF: s.CSRF}
	q := workitem.Query{Question: d.Question}
	for _, c := range d.Chosen {
		if slices.Contains(d.Candidates, c) {
			q.Indicators = append(q.Indicators, c)
		}
	}
	for _, line := range strings.Split(d.Extra, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			q.Indicators = append(q.Indicators, line)
		}
	}
	for _, o := range f["option"] {
		d.Options = append(d.Options, strings.TrimSpace(o))
		if o = strings.TrimSpace(o); o != "" {
			q.Options = append(q.Options, o)
		}
	}
	if len(q.Options) > 0 {
		q.Options = append(q.Options, otherOption)
	}
	if d.Errors = checkQuery(q); len(d.Errors) > 0 {
		h.renderPage(w, r, s, http.StatusUnprocessableEntity, "query.html", "Physician query", d)
		return nil
	}
	if _, err := h.o.Items.OpenQuery(r.Context(), it.ID, s.actor(), q); err != nil {
		return err
	}
	redirect(w, r, "/ui/items/"+url.PathEscape(it.ID)+"?msg=query-sent")
	return nil
}

// checkQuery lists what makes a query non-compliant: the rule the store
// enforces (workitem.CheckQuery) and the composer's indicator rule
// (workitem.CheckComposedQuery), worded for the form.
func checkQuery(q workitem.Query) []string {
	var errs []string
	for _, is := range workitem.CheckComposedQuery(q) {
		errs = append(errs, is.Diagnostics)
	}
	return errs
}

// indicatorCandidates are clinical indicators a coder may cite: the
// documented conditions and procedures, and the sentences of the notes.
func indicatorCandidates(c *workitem.Chart) []string {
	if c == nil {
		return nil
	}
	var out []string
	add := func(s string) {
		s = strings.TrimSpace(s)
		if s != "" && len(s) <= 300 && !slices.Contains(out, s) && len(out) < 20 {
			out = append(out, s)
		}
	}
	for _, d := range append(slices.Clone(c.Conditions), c.Procedures...) {
		if workitem.NeverCoded(d) { // refuted or entered in error: context, not an indicator
			continue
		}
		for _, cd := range d.Codings {
			if cd.Display != "" {
				add("Documented: " + cd.Display)
				break
			}
		}
	}
	for _, doc := range c.Documents {
		for _, sentence := range strings.SplitAfter(doc.Text, ". ") {
			add(sentence)
		}
	}
	return out
}

// answerQuery records the physician's answer (e.g. given by phone) through
// the store, which returns the chart to the top of the queue.
func (h *Handler) answerQuery(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	answer := strings.TrimSpace(r.PostFormValue("answer"))
	if choice := r.PostFormValue("choice"); choice != "" {
		answer = strings.TrimSpace(choice + ". " + answer)
	}
	if err := h.o.Items.AnswerQuery(r.Context(), id, r.PathValue("qid"), s.actor(), strings.TrimSuffix(answer, ". ")); err != nil {
		return err
	}
	redirect(w, r, "/ui/items/"+url.PathEscape(id)+"?msg=answered")
	return nil
}
