-- +goose Up
-- Coding: the current code assignment and its edits on the work item, and
-- physician queries.
ALTER TABLE work_items
    ADD COLUMN codes     jsonb NOT NULL DEFAULT '{"diagnoses":[],"lines":[]}',
    ADD COLUMN edits     jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN coded_by  text  NOT NULL DEFAULT '';

CREATE TABLE work_item_queries (
    id            text        PRIMARY KEY,
    work_item_id  text        NOT NULL REFERENCES work_items (id),
    question      text        NOT NULL,
    indicators    jsonb       NOT NULL DEFAULT '[]',
    options       jsonb       NOT NULL DEFAULT '[]',
    status        text        NOT NULL DEFAULT 'open',
    asked_by      text        NOT NULL,
    asked_at      timestamptz NOT NULL DEFAULT now(),
    answer        text        NOT NULL DEFAULT '',
    answered_by   text        NOT NULL DEFAULT '',
    answered_at   timestamptz
);
CREATE INDEX work_item_queries_item_idx ON work_item_queries (work_item_id, asked_at);
