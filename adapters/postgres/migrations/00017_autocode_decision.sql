-- +goose Up
-- The straight-through coder's decision on each item it looked at, as the
-- single-item view shows it: {"decision":"coded|skipped","reasons":[{"code",
-- "message"}]} (workitem.AutoDecision), and when it decided (for the
-- straight-through report). autocode_note keeps the one-line summary.
ALTER TABLE work_items
    ADD COLUMN autocode    jsonb,
    ADD COLUMN autocode_at timestamptz;
-- The worklist filter "left by the straight-through coder".
CREATE INDEX work_items_autocode_skipped_idx ON work_items (priority DESC, created_at)
    WHERE (autocode->>'decision') = 'skipped';
