package workitem

import (
	"context"
	"time"
)

// PollOptions shape Poll's waits between rounds.
type PollOptions struct {
	// Idle is the wait after a round that found nothing to do (or less than
	// Full), and the first step of the back-off after a failure.
	Idle time.Duration
	// MaxBackoff caps the wait after consecutive failed rounds; each failure
	// waits twice the previous wait plus Idle. Zero means Idle.
	MaxBackoff time.Duration
	// Full is the count at which a round is taken to have left more work
	// waiting, so the next round starts at once. Zero means any count above
	// zero.
	Full int
	// Wake, when not nil, ends an idle wait early: a writer signals it after
	// a commit that made work.
	Wake <-chan struct{}
	// Gather is an extra pause after an idle wait, letting work that
	// arrives together be taken in one round.
	Gather time.Duration
	// OnError is told of each failed round (never of one that failed because
	// ctx ended).
	OnError func(error)
	// Every, when not nil, runs after every round (housekeeping such as a
	// retention sweep that keeps its own schedule).
	Every func(context.Context)
}

// Poll runs round until ctx ends. After a round that handled Full or more
// it runs the next at once; after one that handled less it waits Idle (or
// until Wake) and then Gather; after a failure it backs off. It is the one
// worker loop of codebridge's queues (outbox relay, claim delivery, the
// straight-through coder): one bad round never stops it.
func Poll(ctx context.Context, o PollOptions, round func(context.Context) (int, error)) {
	full := max(o.Full, 1)
	maxWait := o.MaxBackoff
	if maxWait <= 0 {
		maxWait = o.Idle
	}
	backoff := time.Duration(0)
	for ctx.Err() == nil {
		n, err := round(ctx)
		if o.Every != nil && ctx.Err() == nil {
			o.Every(ctx)
		}
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			if o.OnError != nil {
				o.OnError(err)
			}
			backoff = min(backoff*2+o.Idle, maxWait)
			Sleep(ctx, backoff, nil)
		case n >= full:
			backoff = 0
		default:
			backoff = 0
			Sleep(ctx, o.Idle, o.Wake)
			if o.Gather > 0 {
				Sleep(ctx, o.Gather, nil)
			}
		}
	}
}

// Sleep waits d, or until wake (when not nil) is signalled or ctx ends.
func Sleep(ctx context.Context, d time.Duration, wake <-chan struct{}) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-wake:
	case <-t.C:
	}
}
