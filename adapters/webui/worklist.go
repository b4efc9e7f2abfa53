package webui

import (
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// statusGroups are the worklist's status filter choices beyond single
// statuses.
var statusGroups = map[string][]workitem.Status{
	"workable": {workitem.Ready, workitem.Reopened, workitem.InProgress, workitem.OnHold},
	"open": {workitem.Pending, workitem.Ready, workitem.InProgress, workitem.OnHold, workitem.Coded,
		workitem.InReview, workitem.Reopened},
	"all": nil,
}

// worklistQuery is the worklist's filter form.
type worklistQuery struct {
	Status   string
	Class    string
	Assignee string // "", "me" or "unassigned"
	From, To string
	Sort     string
	Cursor   string
	AutoCode string // "", "skipped" (left by the straight-through coder) or "coded"
}

type worklistRow struct {
	ID, Patient, Class, Payer, Assignee string
	Status                              workitem.Status
	Priority, Days                      int
	Service, Discharge                  string
	Mine                                bool
}

type worklistData struct {
	Query    worklistQuery
	Rows     []worklistRow
	Mine     []worklistRow
	Next     string // URL of the next page, "" on the last
	Statuses []workitem.Status
	Classes  []classOption
	Message  string
	Errors   []string
	IsCoder  bool
}

// knownClasses are the encounter classes (HL7 v3 ActCode) the worklist
// filter offers, with every configured institutional class besides.
var knownClasses = []string{"AMB", "VR", "EMER", "OBSENC", "IMP", "ACUTE", "NONAC", "SS", "HH", "FLD", "PRENC"}

// classOption is one choice of the worklist's class filter, labelled with
// the claim type it is billed on.
type classOption struct{ Value, Label string }

// worklistClasses are the class filter's choices: the known classes and
// the configured institutional ones, each with its claim type as the claim
// builder decides it.
func (h *Handler) worklistClasses() []classOption {
	classes := slices.Clone(knownClasses)
	for _, c := range h.institutionalClasses() {
		if !slices.Contains(classes, c) {
			classes = append(classes, c)
		}
	}
	out := make([]classOption, len(classes))
	for i, c := range classes {
		out[i] = classOption{Value: c, Label: c + " — professional"}
		if h.institutional(c) {
			out[i].Label = c + " — institutional"
		}
	}
	return out
}

func (h *Handler) worklist(w http.ResponseWriter, r *http.Request, s *session) error {
	q := r.URL.Query()
	wq := worklistQuery{Status: q.Get("status"), Class: q.Get("class"), Assignee: q.Get("assignee"),
		From: q.Get("from"), To: q.Get("to"), Sort: q.Get("sort"), Cursor: q.Get("cursor"), AutoCode: q.Get("autocode")}
	if wq.Status == "" {
		wq.Status = "workable"
		if s.Role == workitem.RoleAuditor {
			wq.Status = string(workitem.InReview)
		}
	}
	f, errs := h.worklistFilter(wq, s)
	d := worklistData{Query: wq, Statuses: workitem.Statuses(), Classes: h.worklistClasses(), Errors: errs,
		IsCoder: s.Role.Permitted(coders...)}
	if q.Get("msg") == "none" {
		d.Message = "No chart is ready for you: the queue is empty, or you already hold " + itoa(h.o.MaxLeases) + " charts — finish one first."
	}
	ctx, now := r.Context(), h.o.Now().UTC()
	if len(errs) == 0 {
		rows, next, err := h.o.State.WorklistPage(ctx, f)
		if err != nil {
			return err
		}
		d.Rows = viewRows(rows, s.Principal, now)
		if next != "" {
			v := r.URL.Query()
			v.Set("cursor", next)
			v.Del("msg")
			d.Next = "/ui/?" + v.Encode()
		}
	}
	if d.IsCoder {
		mine, _, err := h.o.State.WorklistPage(ctx, WorklistFilter{Assignee: s.Principal,
			Status: []workitem.Status{workitem.InProgress, workitem.OnHold}, Limit: 20})
		if err != nil {
			return err
		}
		d.Mine = viewRows(mine, s.Principal, now)
	}
	h.audit(ctx, s, "", "worklist.view")
	h.renderPage(w, r, s, http.StatusOK, "worklist.html", "Worklist", d)
	return nil
}

// worklistFilter validates the filter form, naming each bad field.
func (h *Handler) worklistFilter(wq worklistQuery, s *session) (WorklistFilter, []string) {
	f := WorklistFilter{Class: wq.Class, Cursor: wq.Cursor, Sort: wq.Sort, Limit: 50, AutoCode: wq.AutoCode}
	var errs []string
	if g, ok := statusGroups[wq.Status]; ok {
		f.Status = g
	} else if st := workitem.Status(wq.Status); st.Valid() {
		f.Status = []workitem.Status{st}
	} else {
		errs = append(errs, "Status: choose one from the list.")
	}
	if wq.Class != "" && !slices.ContainsFunc(h.worklistClasses(), func(c classOption) bool { return c.Value == wq.Class }) {
		errs = append(errs, "Class: choose one from the list.")
	}
	switch wq.Assignee {
	case "":
	case "me":
		f.Assignee = s.Principal
	case "unassigned":
		f.Unassigned = true
	default:
		errs = append(errs, "Assignee: choose one from the list.")
	}
	errs = append(errs, parseDay("Service from", wq.From, &f.From)...)
	errs = append(errs, parseDay("Service to", wq.To, &f.To)...)
	switch wq.AutoCode {
	case "", workitem.AutoSkipped, workitem.AutoCoded:
	default:
		errs = append(errs, "Straight-through: choose one from the list.")
	}
	switch wq.Sort {
	case "", "priority", "discharge", "discharge_desc":
	default:
		errs = append(errs, "Sort: choose one from the list.")
	}
	return f, errs
}

// parseDay reads an optional YYYY-MM-DD field into dst.
func parseDay(label, v string, dst *time.Time) []string {
	if v == "" {
		return nil
	}
	t, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return []string{label + ": enter a date as YYYY-MM-DD."}
	}
	*dst = t
	return nil
}

func viewRows(rows []WorklistRow, me string, now time.Time) []worklistRow {
	out := make([]worklistRow, len(rows))
	for i, r := range rows {
		v := worklistRow{ID: r.ID, Patient: r.PatientName, Class: r.Class, Payer: r.Payer, Assignee: r.Assignee,
			Status: r.Status, Priority: r.Priority, Days: daysSince(r.Discharge, now), Mine: r.Assignee == me}
		if r.ServiceStart != nil {
			v.Service = r.ServiceStart.UTC().Format(time.DateOnly)
		}
		if r.ServiceEnd != nil {
			v.Discharge = r.ServiceEnd.UTC().Format(time.DateOnly)
		}
		out[i] = v
	}
	return out
}

// daysSince counts whole UTC days from t to now (never negative), as the
// backlog report does.
func daysSince(t, now time.Time) int {
	if t.IsZero() {
		return 0
	}
	a := time.Date(t.UTC().Year(), t.UTC().Month(), t.UTC().Day(), 0, 0, 0, 0, time.UTC)
	b := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	return max(0, int(b.Sub(a).Hours()/24))
}

// next leases the top chart to the coder and opens it.
func (h *Handler) next(w http.ResponseWriter, r *http.Request, s *session) error {
	it, ok, err := h.o.Items.LeaseNext(r.Context(), s.Principal, h.o.MaxLeases, h.o.Lease)
	if err != nil {
		return err
	}
	if !ok {
		redirect(w, r, "/ui/?msg=none")
		return nil
	}
	redirect(w, r, "/ui/items/"+url.PathEscape(it.ID))
	return nil
}
