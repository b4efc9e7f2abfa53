-- +goose Up
-- Straight-through coding: which version of each item the auto-coder has
-- looked at, and why it did not code it.
ALTER TABLE work_items
    ADD COLUMN autocode_version integer NOT NULL DEFAULT 0,
    ADD COLUMN autocode_note    text    NOT NULL DEFAULT '';
CREATE INDEX work_items_autocode_idx ON work_items (priority DESC, created_at) WHERE status = 'ready';
