package webui

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// paneView is the code pane as the template draws it.
type paneView struct {
	ItemID      string
	CSRF        string // for the form's no-script fallback
	Version     int
	Editable    bool
	Institution bool // institutional claim: POA indicators and ICD-10-PCS procedures
	DOS         string
	Diagnoses   []draftDx
	Lines       []draftLine
	Procedures  []draftProc
	Edits       []workitem.Edit // errors first
	Errors      int
	Warnings    int
	FieldErrors []string
	Focus       string // id of the element to focus after the swap
	Status      string // announced politely
	Message     string // shown as an alert
	SavedAt     string
	POAOptions  []poaOption
	// Audit is set on an auditor's pane; AuditChanges says what differs
	// from the coder's codes.
	Audit        bool
	AuditChanges []string
	// SigChanged is set when the edits differ from those the page showed
	// (EditsSig), so only real changes are announced.
	SigChanged bool
}

// EditsSig summarises the edits, to tell whether they changed.
func (p paneView) EditsSig() string {
	return itoa(p.Errors) + "e" + itoa(p.Warnings) + "w" + itoa(len(p.Edits))
}

type poaOption struct{ Value, Label string }

var poaOptions = []poaOption{{"", "POA: not set"}, {"Y", "Y — present on admission"}, {"N", "N — not present"},
	{"U", "U — documentation insufficient"}, {"W", "W — clinically undetermined"}, {"1", "1 — exempt"}}

// newPane builds the pane for an item from a draft, describing codes the
// draft has no title for.
func (h *Handler) newPane(ctx context.Context, it workitem.Item, d draft, editable bool, edits []workitem.Edit) paneView {
	p := paneView{ItemID: it.ID, Version: d.Version, Editable: editable, Diagnoses: d.Diagnoses, Lines: d.Lines,
		Procedures: d.Procedures, POAOptions: poaOptions, Institution: h.institutional(it.Class)}
	dos := h.o.Now().UTC()
	if it.ServiceStart != nil {
		dos = it.ServiceStart.UTC()
	}
	p.DOS = dos.Format(time.DateOnly)
	for i := range p.Diagnoses {
		if p.Diagnoses[i].Display == "" && p.Diagnoses[i].Code != "" {
			p.Diagnoses[i].Display = h.o.Codes.Describe(ctx, "icd10cm", p.Diagnoses[i].Code, dos)
		}
	}
	for i := range p.Lines {
		if p.Lines[i].Display == "" && p.Lines[i].Code != "" {
			p.Lines[i].Display = h.o.Codes.Describe(ctx, lineSystem(p.Lines[i].Code), p.Lines[i].Code, dos)
		}
	}
	for i := range p.Procedures {
		if p.Procedures[i].Display == "" && p.Procedures[i].Code != "" {
			p.Procedures[i].Display = h.o.Codes.Describe(ctx, "icd10pcs", p.Procedures[i].Code, dos)
		}
	}
	p.setEdits(edits)
	return p
}

func (p *paneView) setEdits(edits []workitem.Edit) {
	p.Edits = slices.Clone(edits)
	slices.SortStableFunc(p.Edits, func(a, b workitem.Edit) int {
		return strings.Compare(severityRank(a.Severity), severityRank(b.Severity))
	})
	p.Errors, p.Warnings = 0, 0
	for _, e := range edits {
		if e.Severity == "error" {
			p.Errors++
		} else {
			p.Warnings++
		}
	}
}

func severityRank(s string) string {
	if s == "error" {
		return "0"
	}
	return "1"
}

// lineSystem tells CPT (five digits, or four and a letter) from HCPCS.
func lineSystem(code string) string {
	if code != "" && code[0] >= '0' && code[0] <= '9' {
		return "cpt"
	}
	return "hcpcs"
}

// institutional says whether class is billed on an institutional claim,
// for which the pane asks for POA indicators and PCS procedures: the
// configured classes the claim builder uses (Options.InstitutionalClasses).
func (h *Handler) institutional(class string) bool {
	return slices.Contains(h.institutionalClasses(), class)
}

func (h *Handler) institutionalClasses() []string {
	return workitem.InstitutionalClasses(h.o.InstitutionalClasses)
}

// mayEdit says whether the pane is editable for s: whoever may code the
// item (workitem.MayCode), the rule the store enforces; this only decides
// what to draw.
func mayEdit(it workitem.Item, s *session) bool { return workitem.MayCode(it, s.actor()) == nil }

// paneFor builds the pane of a chart: for the user who may edit it, their
// draft, else the stored codes. A draft made on an older version of the
// item (the EHR updated the chart, or codes were saved elsewhere) is kept
// while it differs from the stored codes, and the user is told.
func (h *Handler) paneFor(ctx context.Context, it workitem.Item, s *session) (paneView, error) {
	editable := mayEdit(it, s)
	var codes workitem.Assignment
	if it.Codes != nil {
		codes = *it.Codes
	}
	d, msg := draftOf(codes, it.Version), ""
	if editable {
		raw, err := h.o.State.UIDraft(ctx, s.Principal, it.ID)
		if err != nil {
			return paneView{}, err
		}
		var saved draft
		if raw != nil && json.Unmarshal(raw, &saved) == nil && (saved.Version == it.Version || !saved.sameRows(d)) {
			if saved.Version != it.Version {
				msg = chartChangedKept
			}
			d, d.Version = saved, it.Version
		}
	}
	p := h.newPane(ctx, it, d, editable, it.Edits)
	p.Message = msg
	return p, nil
}

// Messages about a draft made on an older version of the item.
const (
	chartChangedKept = "This chart changed since your draft was saved (the EHR sent an update, or codes were saved elsewhere). " +
		"Your draft is kept below: check it against the chart; it is saved over the stored codes at your next change."
	chartChangedSave = "This chart changed after you opened it (the EHR sent an update, or codes were saved elsewhere), so your codes " +
		"were not saved to it. Your draft is kept: reload the page to see the chart as it is now, with your draft."
)

// saveCodes is the code pane's every change: it applies the action (add,
// move, remove, or just the typed values), saves the draft, saves the
// assignment through the store (which runs the edits), and answers the
// edits, or the whole pane when its rows changed.
func (h *Handler) saveCodes(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx, id := r.Context(), r.PathValue("id")
	it, _, err := h.o.Items.GetItem(ctx, id)
	if err != nil {
		return err
	}
	res, err := h.applyAndSave(r, s, it)
	if err != nil {
		return err
	}
	if r.Header.Get("HX-Request") != "true" {
		redirect(w, r, "/ui/items/"+url.PathEscape(id))
		return nil
	}
	if res.saveErr == nil && res.actionErr == nil && res.action == "review" && len(res.fieldErrs) == 0 {
		redirect(w, r, "/ui/items/"+url.PathEscape(id)+"/review")
		return nil
	}
	p := h.savedPane(r, s, it, res)
	if res.action == "" || res.action == "save" {
		h.renderFragment(w, http.StatusOK, "pane-update", p)
		return nil
	}
	w.Header().Set("HX-Retarget", "#code-pane")
	w.Header().Set("HX-Reswap", "outerHTML")
	h.renderFragment(w, http.StatusOK, "code-pane", p)
	return nil
}

// saveResult is what one change of the code pane did.
type saveResult struct {
	d         draft
	as        workitem.Assignment
	action    string
	out       outcome
	actionErr error // the action could not be applied
	saveErr   error // the store refused the assignment
	fieldErrs []string
	edits     []workitem.Edit
}

// applyAndSave applies the posted action to the posted pane, saves the
// assignment through the store and the draft beside it. The draft is
// saved whatever the store answers: when the item changed since the pane
// was drawn (a stale version), the draft keeps its version, so reloading
// restores it on the new one (paneFor).
func (h *Handler) applyAndSave(r *http.Request, s *session, it workitem.Item) (saveResult, error) {
	res := saveResult{d: parseDraft(r), action: r.PostFormValue("action")}
	version := res.d.Version
	res.out, res.actionErr = h.applyAction(&res.d, res.action, r, it)
	res.as, res.fieldErrs = res.d.assignment()
	if len(res.fieldErrs) > 0 {
		// A line the coder is still typing is not dropped from the stored
		// codes: nothing is saved but the draft until every field reads.
		raw, _ := json.Marshal(res.d)
		return res, h.o.State.SaveUIDraft(r.Context(), s.Principal, it.ID, raw, h.o.Now().UTC())
	}
	res.edits, res.saveErr = h.o.Items.SaveCodes(r.Context(), it.ID, s.actor(), version, res.as, h.o.Lease)
	if res.saveErr == nil {
		res.d.Version = version + 1
	}
	raw, _ := json.Marshal(res.d)
	return res, h.o.State.SaveUIDraft(r.Context(), s.Principal, it.ID, raw, h.o.Now().UTC())
}

// savedPane is the pane after a change, with what to announce and where
// the focus goes; an auditor's pane also says what differs from the
// coder's codes.
func (h *Handler) savedPane(r *http.Request, s *session, it workitem.Item, res saveResult) paneView {
	p := h.newPane(r.Context(), it, res.d, true, res.edits)
	p.CSRF, p.FieldErrors, p.Focus, p.Status = s.CSRF, res.fieldErrs, res.out.Focus, res.out.Status
	p.SavedAt = h.o.Now().UTC().Format("15:04:05")
	for _, e := range []error{res.actionErr, res.saveErr} {
		if e != nil {
			p.Message = viewOf(e, "").Message
		}
	}
	if workitem.KindOf(res.saveErr) == workitem.Precondition {
		p.Message = chartChangedSave
	}
	if res.saveErr != nil {
		p.SavedAt = ""
		p.setEdits(it.Edits)
	}
	p.SigChanged = p.EditsSig() != r.PostFormValue("edits_sig")
	if it.Status == workitem.InReview && workitem.MayCode(it, s.actor()) == nil {
		if coderAs, _, ok, err := h.o.Items.CoderCodes(r.Context(), it.ID); err == nil && ok {
			p.Audit, p.AuditChanges = true, describeDiff(workitem.CompareAssignments(coderAs, res.as))
		}
	}
	return p
}

// applyAction applies the pane action named by the clicked button:
// "add" (with add_system, add_code, add_display), "suggest:icd10cm:J20.9"
// (a code the EHR sent), "up:dx:2",
// "down:ln:0", "remove:px:1", or "save"/"review" (no change).
func (h *Handler) applyAction(d *draft, action string, r *http.Request, it workitem.Item) (outcome, error) {
	if action == "" || action == "save" || action == "review" {
		return outcome{}, nil
	}
	dos := ""
	if it.ServiceStart != nil {
		dos = it.ServiceStart.UTC().Format(time.DateOnly)
	}
	if action == "add" {
		return d.addCode(r.PostFormValue("add_system"), r.PostFormValue("add_code"), r.PostFormValue("add_display"), dos)
	}
	parts := strings.Split(action, ":")
	if len(parts) == 3 && parts[0] == "suggest" {
		if sc, ok := suggestion(it.Chart, parts[1], parts[2]); ok {
			return d.addSuggested(sc, suggestedDiagnoses(it.Chart), dos)
		}
		return d.addCode(parts[1], parts[2], "", dos)
	}
	if len(parts) == 3 && slices.Contains([]string{"up", "down", "remove"}, parts[0]) && slices.Contains([]string{"dx", "ln", "px"}, parts[1]) {
		if i, err := strconv.Atoi(parts[2]); err == nil {
			return d.move(parts[0], parts[1], i)
		}
	}
	return outcome{}, workitem.Errorf(workitem.Invalid, "unknown action")
}

// searchData is a type-ahead answer.
type searchData struct {
	Hits  []CodeHit
	Query string
	Note  string
	Count string
}

var searchSystems = []string{"icd10cm", "cpt", "hcpcs", "icd10pcs"}

// searchCodes answers the code-search listbox: codes by code (with or
// without the dot), prefix or words, from the release in force on the
// chart's date of service.
func (h *Handler) searchCodes(w http.ResponseWriter, r *http.Request, s *session) error {
	q := r.URL.Query()
	system, text := q.Get("system"), strings.TrimSpace(q.Get("q"))
	if !slices.Contains(searchSystems, system) {
		return workitem.Errorf(workitem.Invalid, "choose a code system to search")
	}
	date, err := time.Parse(time.DateOnly, q.Get("date"))
	if err != nil {
		date = h.o.Now().UTC()
	}
	d := searchData{Query: text}
	if text != "" && len(text) <= 200 {
		hits, note, err := h.o.Codes.Search(r.Context(), system, text, date, 15)
		if err != nil {
			return err
		}
		d.Hits, d.Note = hits, note
	}
	switch {
	case text == "":
		d.Count = ""
	case len(d.Hits) == 0:
		d.Count = "No codes found."
	case len(d.Hits) == 1:
		d.Count = "1 code found. Use the arrow keys to choose, Enter to add."
	default:
		d.Count = itoa(len(d.Hits)) + " codes found. Use the arrow keys to choose, Enter to add."
	}
	h.renderFragment(w, http.StatusOK, "code-results", d)
	return nil
}
