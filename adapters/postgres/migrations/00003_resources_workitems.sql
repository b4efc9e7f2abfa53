-- +goose Up
-- FHIR resources as received, every version kept, plus what is indexed from
-- them; and the coding work items (one per Encounter) derived from them.

CREATE TABLE resources (
    type          text        NOT NULL,
    id            text        NOT NULL,
    version       integer     NOT NULL,
    last_updated  timestamptz NOT NULL,
    content_hash  bytea       NOT NULL,   -- sha256 of the content without meta: re-sends are no-ops
    deleted       boolean     NOT NULL DEFAULT false,
    encounter_id  text,                   -- the Encounter it documents (an Encounter: its own id)
    patient_id    text,
    summary       jsonb       NOT NULL DEFAULT '{}',  -- indexed facts, derived from the parse
    PRIMARY KEY (type, id)
);
CREATE INDEX resources_encounter_idx ON resources (encounter_id) WHERE encounter_id IS NOT NULL;
CREATE INDEX resources_patient_idx ON resources (patient_id, type) WHERE patient_id IS NOT NULL;
CREATE INDEX resources_last_updated_idx ON resources (type, last_updated);

CREATE TABLE resource_versions (
    type          text        NOT NULL,
    id            text        NOT NULL,
    version       integer     NOT NULL,
    last_updated  timestamptz NOT NULL,
    raw           bytea       NOT NULL,   -- the JSON as served (client's JSON with server meta)
    PRIMARY KEY (type, id, version)
);

CREATE TABLE resource_identifiers (
    type    text NOT NULL,
    system  text NOT NULL,
    value   text NOT NULL,
    id      text NOT NULL,
    PRIMARY KEY (type, system, value, id)
);
CREATE INDEX resource_identifiers_id_idx ON resource_identifiers (type, id);

-- Conditional creates (If-None-Exist) claim their criteria here; the unique
-- key, not a search-then-insert, is what keeps parallel identical requests
-- from creating duplicates.
CREATE TABLE conditional_keys (
    type      text NOT NULL,
    criteria  text NOT NULL,
    id        text NOT NULL,
    PRIMARY KEY (type, criteria)
);

CREATE TABLE work_items (
    id              text        PRIMARY KEY,
    encounter_id    text        NOT NULL UNIQUE,
    patient_id      text        NOT NULL DEFAULT '',
    class           text        NOT NULL DEFAULT '',
    status          text        NOT NULL,
    priority        integer     NOT NULL DEFAULT 0,
    assignee        text        NOT NULL DEFAULT '',
    lease_expires   timestamptz,
    version         integer     NOT NULL DEFAULT 1,
    service_start   timestamptz,
    service_end     timestamptz,
    chart           jsonb       NOT NULL DEFAULT '{}',
    claim_id        text        NOT NULL DEFAULT '',
    reason          text        NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX work_items_queue_idx ON work_items (status, priority DESC, created_at);
CREATE INDEX work_items_assignee_idx ON work_items (assignee, status) WHERE assignee <> '';

CREATE TABLE work_item_history (
    seq           bigserial   PRIMARY KEY,
    work_item_id  text        NOT NULL REFERENCES work_items (id),
    at            timestamptz NOT NULL DEFAULT now(),
    actor         text        NOT NULL,
    from_status   text        NOT NULL,
    to_status     text        NOT NULL,
    reason        text        NOT NULL DEFAULT ''
);
CREATE INDEX work_item_history_item_idx ON work_item_history (work_item_id, seq);
