package workitem

// AutoCounts says what one batch of the straight-through coder did.
type AutoCounts struct {
	Coded   int // coded straight through (then completed or sent to QA review)
	Skipped int // looked at and left for a coder, with the reason noted
	Failed  int // could not be looked at (its chart or the edits failed); left for a coder, with the error noted
}

// Looked is how many items the batch looked at; 0 means the queue had
// nothing new.
func (c AutoCounts) Looked() int { return c.Coded + c.Skipped + c.Failed }
