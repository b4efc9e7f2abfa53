-- +goose Up
-- The transactional outbox. Every work-item state change inserts its events
-- here in the same transaction; the relay (adapters/kafkapub) publishes them.
--
-- outbox_keys hands out a gap-free sequence per message key (an encounter or
-- claim reference). The upsert that takes the next number also row-locks the
-- key until the writer commits, so per key, commit order == seq order.
CREATE TABLE outbox_keys (
    key       text   PRIMARY KEY,
    last_seq  bigint NOT NULL
);

CREATE TABLE outbox (
    id               bigserial   PRIMARY KEY,
    topic            text        NOT NULL,
    key              text        NOT NULL,
    seq              bigint      NOT NULL,
    value            bytea       NOT NULL,
    headers          jsonb       NOT NULL DEFAULT '{}',
    state            text        NOT NULL DEFAULT 'pending'
                                 CHECK (state IN ('pending', 'sent', 'dead')),
    attempts         integer     NOT NULL DEFAULT 0,
    last_error       text        NOT NULL DEFAULT '',   -- broker/driver error text, never payload
    -- For pending rows: when a relay may take the row next. A claim pushes it
    -- forward by the lease; a failure pushes it forward by the backoff.
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz,
    UNIQUE (key, seq)
);

-- The relay's pick: pending rows in id order ...
CREATE INDEX outbox_pending_idx ON outbox (id) WHERE state = 'pending';
-- ... whose key has no lower pending seq (the NOT EXISTS probe).
CREATE INDEX outbox_pending_key_idx ON outbox (key, seq) WHERE state = 'pending';
-- The admin dead-letter list and the retention sweep.
CREATE INDEX outbox_dead_idx ON outbox (id) WHERE state = 'dead';
CREATE INDEX outbox_sent_at_idx ON outbox (sent_at) WHERE state = 'sent';
