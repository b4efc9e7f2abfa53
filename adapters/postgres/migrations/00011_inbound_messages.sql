-- +goose Up
-- Inbound messages already processed, by sender and the sender's message id
-- (HL7 v2: sending application^facility and MSH-10). The row commits with
-- the message's writes, so a re-sent message is recognised and acknowledged
-- without being applied twice.
CREATE TABLE inbound_messages (
    source       text        NOT NULL,
    message_id   text        NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, message_id)
);
CREATE INDEX inbound_messages_received_idx ON inbound_messages (received_at);
