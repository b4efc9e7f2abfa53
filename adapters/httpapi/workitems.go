package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// WorkItems is what the coding API needs of the store.
type WorkItems interface {
	// ListItems answers a worklist page. Errors: Invalid (cursor).
	ListItems(ctx context.Context, f workitem.Filter) ([]workitem.Item, string, error)
	// GetItem answers an item with chart and history. Errors: NotFound.
	GetItem(ctx context.Context, id string) (workitem.Item, []workitem.Transition, error)
	// LeaseNextChart leases the top ready item and answers it as GetItem
	// does; ok=false when none or at the cap.
	LeaseNextChart(ctx context.Context, coder string, max int, d time.Duration) (workitem.Item, []workitem.Transition, bool, error)
}

// WorkItemOptions configure the coding API.
type WorkItemOptions struct {
	MaxLeases int
	Lease     time.Duration
}

type workItemAPI struct {
	store WorkItems
	opts  WorkItemOptions
}

// RegisterWorkItems adds the coding API's worklist routes.
func RegisterWorkItems(s *Server, store WorkItems, o WorkItemOptions) {
	a := &workItemAPI{store: store, opts: o}
	readers := Require(workitem.RoleCoder, workitem.RoleAuditor)
	s.API.GET("/work-items", a.list, readers)
	s.API.GET("/work-items/:id", a.get, readers)
	s.API.POST("/work-items/next", a.next, Require(workitem.RoleCoder))
}

// itemView is the JSON of a work item in lists.
type itemView struct {
	workitem.Item
}

// chartView is the single-item view: the item plus its chart.
type chartView struct {
	workitem.Item
	Encounter      workitem.EncounterView    `json:"encounter"`
	PatientSummary *workitem.PatientView     `json:"patientSummary"`
	Conditions     []workitem.DocumentedItem `json:"conditions"`
	Procedures     []workitem.DocumentedItem `json:"procedures"`
	Documents      []workitem.Document       `json:"documents"`
	Charges        []workitem.Charge         `json:"charges"`
	SuggestedCodes []workitem.SuggestedCode  `json:"suggestedCodes"`
	Coverage       []workitem.CoverageView   `json:"coverage"`
	Codes          workitem.Assignment       `json:"codes"`
	Edits          []workitem.Edit           `json:"edits"`
	Queries        []workitem.Query          `json:"queries"`
	History        []workitem.Transition     `json:"history"`
	// AutoCode is the straight-through coder's decision, on every item it
	// looked at (CONTRACT §4): reasons as "CODE: sentence".
	AutoCode *autocodeView `json:"autocode,omitempty"`
}

// autocodeView is the single-item view's autocode key.
type autocodeView struct {
	Decision string   `json:"decision"`
	Reasons  []string `json:"reasons"`
}

func newChartView(it workitem.Item, hist []workitem.Transition) chartView {
	v := chartView{Item: it, History: nonNil(hist), Edits: nonNil(it.Edits), Queries: nonNil(it.Queries)}
	if it.Codes != nil {
		v.Codes = *it.Codes
	}
	if d := it.AutoCode; d != nil {
		v.AutoCode = &autocodeView{Decision: d.Decision, Reasons: d.ReasonStrings()}
	}
	v.Codes.Diagnoses, v.Codes.Lines = nonNil(v.Codes.Diagnoses), nonNil(v.Codes.Lines)
	if c := it.Chart; c != nil {
		v.Encounter, v.PatientSummary = c.Encounter, c.PatientSummary
		v.Conditions, v.Procedures, v.Documents = nonNil(c.Conditions), nonNil(c.Procedures), nonNil(c.Documents)
		v.SuggestedCodes, v.Coverage, v.Charges = nonNil(c.SuggestedCodes), nonNil(c.Coverage), nonNil(c.Charges)
	}
	return v
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (a *workItemAPI) list(c echo.Context) error {
	f, err := parseItemFilter(c)
	if err != nil {
		return err
	}
	items, next, err := a.store.ListItems(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out := make([]itemView, len(items))
	for i, it := range items {
		out[i] = itemView{it}
	}
	return c.JSON(http.StatusOK, map[string]any{"items": out, "nextCursor": next})
}

func parseItemFilter(c echo.Context) (workitem.Filter, error) {
	q := c.QueryParams()
	f := workitem.Filter{Assignee: q.Get("assignee"), Class: q.Get("class"), Cursor: q.Get("cursor")}
	if s := q.Get("status"); s != "" {
		for _, st := range strings.Split(s, ",") {
			if !workitem.Status(st).Valid() {
				return f, workitem.Errorf(workitem.Invalid, "status %q is not a work-item status", st)
			}
			f.Status = append(f.Status, workitem.Status(st))
		}
	}
	if e := q.Get("encounter"); e != "" {
		id, ok := strings.CutPrefix(e, "Encounter/")
		if !ok || id == "" {
			return f, workitem.Errorf(workitem.Invalid, "encounter must be Encounter/{id}")
		}
		f.Encounter = id
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := q.Get(p.name); v != "" {
			d, err := time.Parse(time.DateOnly, v)
			if err != nil {
				return f, workitem.Errorf(workitem.Invalid, "%s %q: want a date YYYY-MM-DD", p.name, v)
			}
			*p.dst = d
		}
	}
	switch a := q.Get("autocode"); a {
	case "", workitem.AutoSkipped, workitem.AutoCoded:
		f.AutoCode = a
	default:
		return f, workitem.Errorf(workitem.Invalid, "autocode must be skipped (left by the straight-through coder) or coded")
	}
	if s := q.Get("sort"); s != "" && s != "priority" {
		return f, workitem.Errorf(workitem.Invalid, "sort %q: only priority is supported", s)
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 500 {
			return f, workitem.Errorf(workitem.Invalid, "limit must be 1..500")
		}
		f.Limit = n
	}
	return f, nil
}

func (a *workItemAPI) get(c echo.Context) error {
	it, hist, err := a.store.GetItem(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, newChartView(it, hist))
}

func (a *workItemAPI) next(c echo.Context) error {
	ctx := c.Request().Context()
	full, hist, ok, err := a.store.LeaseNextChart(ctx, PrincipalOf(c).Name, a.opts.MaxLeases, a.opts.Lease)
	if err != nil {
		return err
	}
	if !ok {
		return c.NoContent(http.StatusNoContent)
	}
	return c.JSON(http.StatusOK, newChartView(full, hist))
}
