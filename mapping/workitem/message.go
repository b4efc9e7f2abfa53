package workitem

import (
	"context"
	"errors"
)

// MessageKey identifies one inbound message by its sender, for exactly-once
// processing of feeds that re-send: an HL7 v2 message is (sending
// application^facility, MSH-10 control id).
type MessageKey struct {
	Source string // who sent it, e.g. "hl7v2:APP^FACILITY"
	ID     string // the sender's message id, e.g. MSH-10
}

// ErrDuplicateMessage reports that a write carrying a MessageKey was not
// made because a message with that key was committed before: the message
// was processed once already and must be acknowledged, not re-applied.
var ErrDuplicateMessage = errors.New("message already processed")

type messageKeyCtx struct{}

// WithMessageKey returns ctx carrying k: a store records k in the same
// transaction as the writes made under ctx, and refuses (with
// ErrDuplicateMessage) to write again under a key it has recorded.
func WithMessageKey(ctx context.Context, k MessageKey) context.Context {
	return context.WithValue(ctx, messageKeyCtx{}, k)
}

// MessageKeyFrom returns the key ctx carries, if any.
func MessageKeyFrom(ctx context.Context) (MessageKey, bool) {
	k, ok := ctx.Value(messageKeyCtx{}).(MessageKey)
	return k, ok && k.Source != "" && k.ID != ""
}
