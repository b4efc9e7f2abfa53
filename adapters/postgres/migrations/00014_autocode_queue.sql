-- +goose Up
-- The straight-through coder's queue: ready items it has not yet looked at
-- in their current version, and items it skipped only because no code set
-- covered their date. Each is its own partial index, so picking the next
-- item never walks past the (possibly very many) ready items it already
-- left for coders.
CREATE INDEX work_items_autocode_pending_idx ON work_items (priority DESC, created_at)
    WHERE status = 'ready' AND autocode_version < version;
CREATE INDEX work_items_autocode_norelease_idx ON work_items (updated_at)
    WHERE status = 'ready' AND autocode_note LIKE '%NO_RELEASE_FOR_DOS%';
DROP INDEX work_items_autocode_idx;
