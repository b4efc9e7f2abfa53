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
	// Hash is a digest of the message's content (HL7 v2: SHA-256 of the
	// payload, segment separators unified), recorded with the key so that
	// a sender re-using an id for a different message is told apart from a
	// re-send. Optional: nil records no digest, and a key without one
	// (either side) counts as the same content.
	Hash []byte
}

// ErrDuplicateMessage reports that a write carrying a MessageKey was not
// made because a message with that key was committed before: the message
// was processed once already and must be acknowledged, not re-applied.
var ErrDuplicateMessage = errors.New("message already processed")

// ErrMessageIDReused reports that a write carrying a MessageKey was not
// made because the key was committed before with a different content hash:
// the sender re-used a message id for another message. Nothing is applied
// (HL7 v2 answers AA with a warning ERR, as CONTRACT §6 asks AA for a
// repeated MSH-10, and counts it); the sender must give the message an id
// of its own for it to be applied. It comes wrapped in a Conflict error.
var ErrMessageIDReused = errors.New("message id already used for a different message")

type messageKeyCtx struct{}

// WithMessageKey returns ctx carrying k: a store records k in the same
// transaction as the writes made under ctx, and refuses to write again
// under a key it has recorded: ErrDuplicateMessage when the content hashes
// agree (or either is missing), ErrMessageIDReused when they differ.
func WithMessageKey(ctx context.Context, k MessageKey) context.Context {
	return context.WithValue(ctx, messageKeyCtx{}, k)
}

// MessageKeyFrom returns the key ctx carries, if any.
func MessageKeyFrom(ctx context.Context) (MessageKey, bool) {
	k, ok := ctx.Value(messageKeyCtx{}).(MessageKey)
	return k, ok && k.Source != "" && k.ID != ""
}
