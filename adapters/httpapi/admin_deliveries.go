package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// DeliveryAdmin is what the claim-delivery admin routes need: the dead
// deliveries and their replay (postgres.DeliveryStore implements it).
type DeliveryAdmin interface {
	ListDead(ctx context.Context, afterID int64, limit int) ([]workitem.ClaimDelivery, error)
	Replay(ctx context.Context, id int64) error
}

// RegisterDeliveryAdmin adds the admin-only claim-sink dead-letter routes
// to s.API:
//
//	GET  /api/v1/admin/claim-deliveries/dead?after={id}&limit={n}  list dead deliveries
//	POST /api/v1/admin/claim-deliveries/dead/{id}/replay           replay one
//
// Listings carry ids, the Claim reference and identifier, attempts and the
// sink's status and reason, never the Claim.
func RegisterDeliveryAdmin(s *Server, store DeliveryAdmin) {
	h := deliveryAdmin{store: store}
	g := s.API.Group("/admin/claim-deliveries", Require(workitem.RoleAdmin))
	g.GET("/dead", h.list)
	g.POST("/dead/:id/replay", h.replay)
}

type deliveryAdmin struct {
	store DeliveryAdmin
}

// deadDelivery is one dead claim delivery as listed to operators.
type deadDelivery struct {
	ID         int64     `json:"id"`
	Claim      string    `json:"claim"`
	Version    int       `json:"version"`
	Identifier string    `json:"identifier"`
	Attempts   int       `json:"attempts"`
	LastError  string    `json:"lastError"`
	CreatedAt  time.Time `json:"createdAt"`
}

func (h deliveryAdmin) list(c echo.Context) error {
	after, limit, err := deadPage(c)
	if err != nil {
		return err
	}
	ds, err := h.store.ListDead(c.Request().Context(), after, limit)
	if err != nil {
		return err
	}
	out := make([]deadDelivery, len(ds))
	for i, d := range ds {
		out[i] = deadDelivery{ID: d.ID, Claim: "Claim/" + d.ClaimID, Version: d.Version,
			Identifier: d.IdentifierSystem + "|" + d.IdentifierValue, Attempts: d.Attempts,
			LastError: d.LastError, CreatedAt: d.CreatedAt}
	}
	return c.JSON(http.StatusOK, map[string]any{"dead": out})
}

func (h deliveryAdmin) replay(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return workitem.Errorf(workitem.Invalid, "claim delivery id must be a positive integer")
	}
	if err := h.store.Replay(c.Request().Context(), id); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"replayed": 1})
}
