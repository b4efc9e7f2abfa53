-- +goose Up
-- The SHA-256 of each inbound message's content (HL7 v2: the payload with
-- its segment separators unified), so a sender re-using a message id for a
-- different message is refused instead of being acknowledged as a re-send.
-- Rows recorded before this migration keep NULL: they count as identical
-- to whatever arrives under their key, as before.
ALTER TABLE inbound_messages ADD COLUMN content_sha256 bytea;
