package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// OutboxAdmin is what the outbox admin routes need: the dead letters and
// their replay (postgres.OutboxStore implements it).
type OutboxAdmin interface {
	ListDead(ctx context.Context, afterID int64, limit int) ([]workitem.OutboxRecord, error)
	Replay(ctx context.Context, id int64) error
	ReplayAll(ctx context.Context) (int64, error)
}

// RegisterOutboxAdmin adds the admin-only dead-letter routes to s.API:
//
//	GET  /api/v1/admin/outbox/dead?after={id}&limit={n}  list dead records
//	POST /api/v1/admin/outbox/dead/{id}/replay           replay one
//	POST /api/v1/admin/outbox/dead/replay                replay all
//
// Listings carry ids, topic, key (a reference), sizes and the broker error,
// never the payload.
func RegisterOutboxAdmin(s *Server, store OutboxAdmin) {
	h := outboxAdmin{store: store}
	g := s.API.Group("/admin/outbox", Require(workitem.RoleAdmin))
	g.GET("/dead", h.list)
	g.POST("/dead/replay", h.replayAll)
	g.POST("/dead/:id/replay", h.replay)
}

type outboxAdmin struct {
	store OutboxAdmin
}

// deadRecord is one dead letter as listed to operators.
type deadRecord struct {
	ID         int64     `json:"id"`
	Topic      string    `json:"topic"`
	Key        string    `json:"key"`
	Seq        int64     `json:"seq"`
	Attempts   int       `json:"attempts"`
	LastError  string    `json:"lastError"`
	ValueBytes int       `json:"valueBytes"`
	CreatedAt  time.Time `json:"createdAt"`
}

func (h outboxAdmin) list(c echo.Context) error {
	after, limit, err := deadPage(c)
	if err != nil {
		return err
	}
	recs, err := h.store.ListDead(c.Request().Context(), after, limit)
	if err != nil {
		return err
	}
	out := make([]deadRecord, len(recs))
	for i, r := range recs {
		out[i] = deadRecord{ID: r.ID, Topic: r.Topic, Key: r.Key, Seq: r.Seq, Attempts: r.Attempts,
			LastError: r.LastError, ValueBytes: len(r.Value), CreatedAt: r.CreatedAt}
	}
	return c.JSON(http.StatusOK, map[string]any{"dead": out})
}

func (h outboxAdmin) replay(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return workitem.Errorf(workitem.Invalid, "outbox id must be a positive integer")
	}
	if err := h.store.Replay(c.Request().Context(), id); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"replayed": 1})
}

func (h outboxAdmin) replayAll(c echo.Context) error {
	n, err := h.store.ReplayAll(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"replayed": n})
}

func outboxQueryInt(c echo.Context, name string, def int64) (int64, error) {
	v := c.QueryParam(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, workitem.Errorf(workitem.Invalid, "query parameter %s must be a non-negative integer", name)
	}
	return n, nil
}

// deadPage reads the paging of a dead-letter listing: ?after=<id>&limit=
// (1..1000, default 100).
func deadPage(c echo.Context) (after int64, limit int, err error) {
	if after, err = outboxQueryInt(c, "after", 0); err != nil {
		return 0, 0, err
	}
	l, err := outboxQueryInt(c, "limit", 100)
	if err != nil {
		return 0, 0, err
	}
	return after, int(min(max(l, 1), 1000)), nil
}
