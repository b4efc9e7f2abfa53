package workitem

import (
	"sort"
	"strings"
)

// transitions is the work-item state machine: for each status, the statuses
// it may move to.
var transitions = map[Status][]Status{
	Pending:    {Ready, Cancelled},
	Ready:      {InProgress, Pending, Coded, Cancelled},
	InProgress: {InProgress, OnHold, Coded, Ready, Pending, Cancelled},
	OnHold:     {InProgress, Ready, Cancelled},
	Coded:      {InReview, Completed, Reopened, Cancelled},
	InReview:   {Completed, Reopened, Cancelled},
	Completed:  {Reopened, Cancelled},
	Reopened:   {InProgress, Coded, Pending, Cancelled},
	Cancelled:  {Pending, Ready},
}

// Statuses lists every status.
func Statuses() []Status {
	out := make([]Status, 0, len(transitions))
	for s := range transitions {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	_, ok := transitions[s]
	return ok
}

// CanMove reports whether the state machine allows from → to.
func CanMove(from, to Status) bool {
	for _, t := range transitions[from] {
		if t == to {
			return true
		}
	}
	return false
}

// Move checks from → to and answers a Conflict naming the allowed moves
// when the state machine forbids it.
func Move(from, to Status) error {
	if CanMove(from, to) {
		return nil
	}
	allowed := make([]string, 0, len(transitions[from]))
	for _, t := range transitions[from] {
		allowed = append(allowed, string(t))
	}
	return Errorf(Conflict, "a %s work item cannot become %s (allowed: %s)", from, to, strings.Join(allowed, ", "))
}
