package fhirclient

import (
	"context"
	"log/slog"
	"time"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// Queue is what the Worker needs of the delivery queue
// (postgres.DeliveryStore implements it); see workitem.ClaimDeliveries for
// the contract.
type Queue interface {
	Claim(ctx context.Context, limit int, lease time.Duration) ([]workitem.ClaimDelivery, error)
	MarkDelivered(ctx context.Context, id int64) error
	MarkFailed(ctx context.Context, id int64, reason string, permanent bool) (dead bool, err error)
	Release(ctx context.Context, id int64) error
}

// Deliverer sends one Claim version downstream (*Client implements it).
type Deliverer interface {
	DeliverClaim(ctx context.Context, d workitem.ClaimDelivery) error
}

// WorkerOptions tune a Worker; zero values take the defaults in brackets.
type WorkerOptions struct {
	Batch       int           // rows claimed per round [10]
	Lease       time.Duration // how long a claim keeps other workers off [2m]
	Poll        time.Duration // wait when nothing is due [500ms]
	Logger      *slog.Logger
	OnDelivered func() // called after each delivery; nil: nothing
	OnFailed    func() // called after each failed attempt; nil: nothing
}

// Worker delivers queued Claim versions until its context is done.
type Worker struct {
	q Queue
	d Deliverer
	o WorkerOptions
}

// NewWorker returns a worker from q to d.
func NewWorker(q Queue, d Deliverer, o WorkerOptions) *Worker {
	if o.Batch <= 0 {
		o.Batch = 10
	}
	if o.Lease <= 0 {
		o.Lease = 2 * time.Minute
	}
	if o.Poll <= 0 {
		o.Poll = 500 * time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Worker{q: q, d: d, o: o}
}

// Run delivers until ctx is done. Database errors are logged and retried
// with a growing pause (up to 30 s); a failed delivery is recorded on its
// row only. A round that claimed rows is followed at once by the next.
func (w *Worker) Run(ctx context.Context) {
	workitem.Poll(ctx, workitem.PollOptions{
		Idle:       w.o.Poll,
		MaxBackoff: 30 * time.Second,
		OnError: func(err error) {
			w.o.Logger.Warn("claim delivery round failed", "error", err.Error())
		},
	}, w.RunOnce)
}

// RunOnce claims one batch, delivers it in order and records each outcome.
// It reports how many rows it claimed, and the first bookkeeping error.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	ds, err := w.q.Claim(ctx, w.o.Batch, w.o.Lease)
	if err != nil || len(ds) == 0 {
		return 0, err
	}
	var first error
	for _, d := range ds {
		if err := w.deliver(ctx, d); err != nil && first == nil {
			first = err
		}
	}
	return len(ds), first
}

// deliver sends d and records the outcome. A delivery cut short by ctx is
// released without counting the attempt.
func (w *Worker) deliver(ctx context.Context, d workitem.ClaimDelivery) error {
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if ctx.Err() != nil {
		return w.q.Release(bctx, d.ID)
	}
	derr := w.d.DeliverClaim(ctx, d)
	if derr == nil {
		if w.o.OnDelivered != nil {
			w.o.OnDelivered()
		}
		return w.q.MarkDelivered(bctx, d.ID)
	}
	if ctx.Err() != nil {
		return w.q.Release(bctx, d.ID)
	}
	if w.o.OnFailed != nil {
		w.o.OnFailed()
	}
	dead, err := w.q.MarkFailed(bctx, d.ID, derr.Error(), IsPermanent(derr))
	log := w.o.Logger.Warn
	if !dead {
		log = w.o.Logger.Info
	}
	log("claim delivery failed", "delivery", d.ID, "claim", d.ClaimID, "version", d.Version,
		"attempt", d.Attempts, "dead", dead, "error", derr.Error())
	return err
}
