package workitem

// WaitingStatuses are the statuses whose stored edits a code-set release
// loaded later re-checks (the yearly roll-over): the item is still being
// worked, so its edits must answer for the code set of its own date of
// service as now loaded. pending (documentation still arriving), ready (in
// the queue, e.g. codes saved and the lease released), in_progress (leased),
// on_hold (physician query), in_review (with an auditor) and reopened
// (documentation changed after coding).
//
// Never re-checked: completed (the Claim is issued: nothing already billed
// changes) and cancelled (withdrawn); nor coded, which is transient — a
// submit moves coded on to in_review or completed in the same transaction,
// and an item left coded holds the blocking Claim edit that stopped its
// Claim, which a re-check must not wipe.
var WaitingStatuses = []Status{Pending, Ready, InProgress, OnHold, InReview, Reopened}

// Waiting reports whether s is one of WaitingStatuses.
func Waiting(s Status) bool {
	for _, w := range WaitingStatuses {
		if s == w {
			return true
		}
	}
	return false
}

// RecheckCounts says what one round of the release re-check did.
type RecheckCounts struct {
	Updated   int // edits recomputed and changed (stored, with a history entry)
	Unchanged int // edits recomputed and the same as stored
	Failed    int // the check failed on the item; noted in its history, edits kept
}

// Looked is how many items the round looked at.
func (c RecheckCounts) Looked() int { return c.Updated + c.Unchanged + c.Failed }
