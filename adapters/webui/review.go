package webui

import (
	"net/http"
	"net/url"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// reviewData is the submit step: what the Claim will say, and the edits
// that stand.
type reviewData struct {
	Item      workitem.Item
	Patient   *workitem.PatientView
	Encounter workitem.EncounterView
	Pane      paneView
	ClaimType string
	Payers    []string
	CSRF      string
	Refusal   *errorView
	Audit     *auditView
}

// review shows the assignment as the Claim will carry it, with the edits;
// submitting is refused on screen while an error edit stands. With
// ?result=submitted it is the result page a successful submit redirects
// to (submitted).
func (h *Handler) review(w http.ResponseWriter, r *http.Request, s *session) error {
	if r.URL.Query().Get("result") == "submitted" {
		return h.submitted(w, r, s)
	}
	d, err := h.reviewData(w, r, s)
	if err != nil {
		return err
	}
	h.renderPage(w, r, s, http.StatusOK, "review.html", "Review and submit", d)
	return nil
}

func (h *Handler) reviewData(w http.ResponseWriter, r *http.Request, s *session) (reviewData, error) {
	ctx, id := r.Context(), r.PathValue("id")
	it, _, err := h.o.Items.GetItem(ctx, id)
	if err != nil {
		return reviewData{}, err
	}
	if !mayEdit(it, s) {
		return reviewData{}, workitem.Errorf(workitem.Conflict, "this chart is %s: only the coder holding it, or an auditor while it is in review, may submit it", statusLabel(it.Status))
	}
	h.audit(ctx, s, id, "chart.review")
	var codes workitem.Assignment
	if it.Codes != nil {
		codes = *it.Codes
	}
	d := reviewData{Item: it, CSRF: s.CSRF, Pane: h.newPane(ctx, it, draftOf(codes, it.Version), false, it.Edits)}
	d.ClaimType = "Professional (837P / CMS-1500)"
	if h.institutional(it.Class) {
		d.ClaimType = "Institutional (837I / UB-04)"
	}
	if c := it.Chart; c != nil {
		d.Patient, d.Encounter, d.Payers = c.PatientSummary, c.Encounter, payers(c)
	}
	if d.Audit, err = h.auditSide(ctx, it, s); err != nil {
		return reviewData{}, err
	}
	return d, nil
}

// doneData is the page after a successful submit.
type doneData struct {
	Item    workitem.Item
	QA      *workitem.QAReview
	Blocked []workitem.Edit
	IsCoder bool
	CSRF    string
}

// submit completes coding through the store (which re-runs the edits and
// refuses while errors, or unacknowledged warnings, stand).
func (h *Handler) submit(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx, id := r.Context(), r.PathValue("id")
	o := workitem.SubmitOptions{AcknowledgeWarnings: r.PostFormValue("ack") == "on", QASampleRate: h.o.QASampleRate}
	if err := h.o.Items.Submit(ctx, id, s.actor(), o); err != nil {
		if workitem.KindOf(err) != workitem.Unprocessable {
			return err
		}
		d, derr := h.reviewData(w, r, s)
		if derr != nil {
			return derr
		}
		v := viewOf(err, w.Header().Get("X-Request-Id"))
		d.Refusal = &v
		h.renderPage(w, r, s, http.StatusUnprocessableEntity, "review.html", "Review and submit", d)
		return nil
	}
	if err := h.o.State.DeleteUIDraft(ctx, s.Principal, id); err != nil {
		return err
	}
	redirect(w, r, submittedURL(id))
	return nil
}

// submittedURL is the result page of a submit: a page of its own, so
// reloading it never posts the submit again.
func submittedURL(id string) string {
	return "/ui/items/" + url.PathEscape(id) + "/review?result=submitted"
}

// submitted shows what a submit did: the Claim issued, the chart gone to
// QA review, or the edits that still block the Claim.
func (h *Handler) submitted(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx, id := r.Context(), r.PathValue("id")
	it, _, err := h.o.Items.GetItem(ctx, id)
	if err != nil {
		return err
	}
	d := doneData{Item: it, IsCoder: s.Role.Permitted(coders...), CSRF: s.CSRF}
	for _, e := range it.Edits {
		if e.Severity == "error" {
			d.Blocked = append(d.Blocked, e)
		}
	}
	if it.Status == workitem.Completed {
		if qa, err := h.o.Items.QAReviewOf(ctx, id); err == nil && qa.Auditor == s.Principal {
			d.QA = &qa
		}
	}
	h.renderPage(w, r, s, http.StatusOK, "done.html", "Submitted", d)
	return nil
}
