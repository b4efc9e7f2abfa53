-- +goose Up
-- Deliveries of issued Claim versions to the downstream FHIR server
-- (CODEBRIDGE_CLAIM_SINK_URL). A row is queued in the transaction that
-- writes the Claim version; the sink worker (adapters/fhirclient) claims
-- rows with FOR UPDATE SKIP LOCKED, leasing them by pushing
-- next_attempt_at forward, and takes a version only once every lower
-- version of the same Claim is delivered.
CREATE TABLE claim_deliveries (
    id               bigserial   PRIMARY KEY,
    claim_id         text        NOT NULL REFERENCES claims (id),
    claim_version    integer     NOT NULL,
    identifier       text        NOT NULL,   -- the Claim's identifier value (urn:codebridge:claim)
    state            text        NOT NULL DEFAULT 'pending'
                                 CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts         integer     NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_error       text        NOT NULL DEFAULT '',   -- status code + short reason, never payload
    created_at       timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz,
    UNIQUE (claim_id, claim_version)
);

-- The worker's pick: pending rows in id order ...
CREATE INDEX claim_deliveries_pending_idx ON claim_deliveries (id) WHERE state = 'pending';
-- ... whose Claim has no undelivered lower version (the NOT EXISTS probe).
CREATE INDEX claim_deliveries_open_idx ON claim_deliveries (claim_id, claim_version) WHERE state <> 'delivered';
-- The admin dead-letter list.
CREATE INDEX claim_deliveries_dead_idx ON claim_deliveries (id) WHERE state = 'dead';

-- +goose Down
DROP TABLE claim_deliveries;
