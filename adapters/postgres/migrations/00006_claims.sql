-- +goose Up
-- Claims issued from completed work items: the current version and every
-- version, served read-only on /fhir/Claim.
CREATE TABLE claims (
    id            text        PRIMARY KEY,
    work_item_id  text        NOT NULL REFERENCES work_items (id),
    encounter_id  text        NOT NULL,
    patient_id    text        NOT NULL,
    status        text        NOT NULL,          -- active | cancelled
    version       integer     NOT NULL,
    last_updated  timestamptz NOT NULL,
    identifier    text        NOT NULL UNIQUE,   -- {work item id}-v{work item version}
    prior_id      text        NOT NULL DEFAULT ''
);
CREATE INDEX claims_updated_idx ON claims (last_updated, id);
CREATE INDEX claims_encounter_idx ON claims (encounter_id);
CREATE INDEX claims_patient_idx ON claims (patient_id);

CREATE TABLE claim_versions (
    id            text        NOT NULL REFERENCES claims (id),
    version       integer     NOT NULL,
    last_updated  timestamptz NOT NULL,
    raw           bytea       NOT NULL,
    PRIMARY KEY (id, version)
);
