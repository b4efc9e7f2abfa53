package autocode

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/codebridge/codebridge/mapping/workitem"
)

// Defaults of Options.
const (
	// DefaultBatch is how many items one batch looks at, at most.
	DefaultBatch = 8
	// DefaultIdle is how long the coder waits when no ready item is new to it.
	DefaultIdle = 200 * time.Millisecond
	// DefaultGather is how long the coder lets new items gather before
	// looking at them, once a committed write has woken it.
	DefaultGather = 20 * time.Millisecond
	// maxBackoff caps the wait after failed batches.
	maxBackoff = time.Second
)

// Store is what the straight-through coder needs of storage.
type Store interface {
	// AutoCodeBatch looks at up to max of the ready items the coder has not
	// yet seen at their current version, in one transaction, coding those
	// whose suggestions are complete and pass the edits and noting why the
	// others were left for a coder; a coded item then completes or goes to
	// QA review (sampled at qaRate). An item that fails on its own is noted
	// and counted as Failed, not returned as an error. Errors: Transient
	// (the database is unavailable), Internal.
	AutoCodeBatch(ctx context.Context, qaRate float64, max int) (workitem.AutoCounts, error)
}

// Options configure a Coder. Zero durations and sizes take the defaults.
type Options struct {
	// QASampleRate is the share of coded items sent to QA review.
	QASampleRate float64
	// Batch is how many items one transaction looks at, at most.
	Batch int
	// Idle is the wait after a batch that drained the queue.
	Idle time.Duration
	// Gather is the pause after that wait, letting new items gather.
	Gather time.Duration
	// Wake, when not nil, ends the idle wait early: the store signals it
	// after a committed write.
	Wake <-chan struct{}
	// Counted, when not nil, is told what each batch did (metrics).
	Counted func(workitem.AutoCounts)
	// Logger receives batch failures and item failures; nil logs nothing.
	Logger *slog.Logger
}

// Coder codes ready work items straight through, in batches, until its
// context ends.
type Coder struct {
	store Store
	o     Options
}

// New returns a Coder over store.
func New(store Store, o Options) *Coder {
	if o.Batch <= 0 {
		o.Batch = DefaultBatch
	}
	if o.Idle <= 0 {
		o.Idle = DefaultIdle
	}
	if o.Gather <= 0 {
		o.Gather = DefaultGather
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Coder{store: store, o: o}
}

// Run codes batches until ctx ends (see the package doc for the waits). A
// failed batch never stops it.
func (c *Coder) Run(ctx context.Context) {
	workitem.Poll(ctx, workitem.PollOptions{
		Idle:       c.o.Idle,
		MaxBackoff: maxBackoff,
		Full:       c.o.Batch,
		Wake:       c.o.Wake,
		Gather:     c.o.Gather,
		OnError: func(err error) {
			c.o.Logger.Error("auto-coding failed", "error", err.Error())
		},
	}, c.batch)
}

// batch runs one AutoCodeBatch and reports what it did; its count is the
// items looked at.
func (c *Coder) batch(ctx context.Context) (int, error) {
	n, err := c.store.AutoCodeBatch(ctx, c.o.QASampleRate, c.o.Batch)
	if err != nil {
		return 0, err
	}
	if c.o.Counted != nil {
		c.o.Counted(n)
	}
	if n.Failed > 0 {
		c.o.Logger.Warn("auto-coding failed on a work item; it is left for a coder with the error noted")
	}
	return n.Looked(), nil
}
