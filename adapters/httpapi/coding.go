package httpapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/codebridge/codebridge/mapping"
	"github.com/codebridge/codebridge/mapping/workitem"
)

// Coding is what the coding actions need of the store.
type Coding interface {
	// SaveCodes replaces an assignment. Errors: NotFound, Conflict, Forbidden, Precondition, Invalid.
	SaveCodes(ctx context.Context, id string, a workitem.Actor, ifVersion int, as workitem.Assignment, lease time.Duration) ([]workitem.Edit, error)
	// Submit completes coding. Errors: NotFound, Conflict, Forbidden, Unprocessable.
	Submit(ctx context.Context, id string, a workitem.Actor, o workitem.SubmitOptions) error
	// OpenQuery puts an item on hold for a physician query.
	OpenQuery(ctx context.Context, id string, a workitem.Actor, q workitem.Query) (workitem.Query, error)
	// AnswerQuery answers a query and requeues the item at the top.
	AnswerQuery(ctx context.Context, id, qid string, a workitem.Actor, answer string) error
}

// CodingOptions configure the coding actions.
type CodingOptions struct {
	Lease        time.Duration
	QASampleRate float64
}

type codingAPI struct {
	store Coding
	items WorkItems
	opts  CodingOptions
}

// RegisterCoding adds PUT codes, submit and the physician-query routes.
func RegisterCoding(s *Server, store Coding, items WorkItems, o CodingOptions) {
	a := &codingAPI{store: store, items: items, opts: o}
	coders := Require(workitem.RoleCoder, workitem.RoleAuditor)
	s.API.PUT("/work-items/:id/codes", a.putCodes, coders)
	s.API.POST("/work-items/:id/submit", a.submit, coders)
	s.API.POST("/work-items/:id/queries", a.openQuery, Require(workitem.RoleCoder))
	s.API.POST("/work-items/:id/queries/:qid/answer", a.answer, RequireThat(workitem.MayAnswerQuery))
}

func actorOf(c echo.Context) workitem.Actor {
	p := PrincipalOf(c)
	return workitem.Actor{Name: p.Name, Role: p.Role}
}

// decodeJSON reads a strict JSON body (unknown fields are errors).
func decodeJSON(c echo.Context, v any) error {
	mt, _, _ := strings.Cut(c.Request().Header.Get(echo.HeaderContentType), ";")
	mt = strings.TrimSpace(mt)
	if mt != "" && mt != echo.MIMEApplicationJSON {
		return workitem.Errorf(workitem.UnsupportedMedia, "Content-Type %q: send application/json", mt)
	}
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && err != io.EOF {
		return workitem.Errorf(workitem.Invalid, "body: %v", err)
	}
	return nil
}

func (a *codingAPI) putCodes(c echo.Context) error {
	var as workitem.Assignment
	if err := decodeJSON(c, &as); err != nil {
		return err
	}
	ifVersion := 0
	if im := c.Request().Header.Get("If-Match"); im != "" {
		v, err := mapping.ParseETag(im)
		if err != nil {
			return err
		}
		ifVersion = v
	}
	_, err := a.store.SaveCodes(c.Request().Context(), c.Param("id"), actorOf(c), ifVersion, as, a.opts.Lease)
	if err != nil {
		return err
	}
	return a.answerItem(c, c.Param("id"))
}

func (a *codingAPI) answerItem(c echo.Context, id string) error {
	it, hist, err := a.items.GetItem(c.Request().Context(), id)
	if err != nil {
		return err
	}
	c.Response().Header().Set("ETag", `W/"`+itoa(it.Version)+`"`)
	return c.JSON(http.StatusOK, newChartView(it, hist))
}

func (a *codingAPI) submit(c echo.Context) error {
	var body struct {
		AcknowledgeWarnings bool `json:"acknowledgeWarnings"`
	}
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	o := workitem.SubmitOptions{AcknowledgeWarnings: body.AcknowledgeWarnings, QASampleRate: a.opts.QASampleRate}
	if err := a.store.Submit(c.Request().Context(), c.Param("id"), actorOf(c), o); err != nil {
		return err
	}
	return a.answerItem(c, c.Param("id"))
}

func (a *codingAPI) openQuery(c echo.Context) error {
	var q workitem.Query
	var body struct {
		Question   string   `json:"question"`
		Indicators []string `json:"indicators"`
		Options    []string `json:"options"`
	}
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	q.Question, q.Indicators, q.Options = body.Question, body.Indicators, body.Options
	out, err := a.store.OpenQuery(c.Request().Context(), c.Param("id"), actorOf(c), q)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, out)
}

func (a *codingAPI) answer(c echo.Context) error {
	var body struct {
		Answer string `json:"answer"`
	}
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	if err := a.store.AnswerQuery(c.Request().Context(), c.Param("id"), c.Param("qid"), actorOf(c), body.Answer); err != nil {
		return err
	}
	return a.answerItem(c, c.Param("id"))
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
