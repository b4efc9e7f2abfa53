-- +goose Up
-- Re-checking the edits of waiting items after a code-set release is loaded
-- (Store.RecheckAfterRelease, the yearly roll-over).
--
-- code_release_rechecks has one row per release the re-check has seen:
-- started_at is taken (clock_timestamp, plus a grace longer than any
-- process caches its release list) after the release was visible as
-- committed, so every edit check that began later saw it; the re-check of
-- the release starts then. done_at is set
-- once no waiting item it covers has edits older than started_at. A release
-- replaced under its version is a new row in code_releases, so it is
-- re-checked again; deleting a release deletes its row here.
--
-- work_items.edits_checked_at is when the re-check last computed the item's
-- edits: the start of the statement that locked it, before any code lookup
-- of that check (READ COMMITTED: each later statement sees every release
-- committed before it). NULL: never re-checked. It is not the item's
-- version: a re-check changes no assignment and must not fail a coder's
-- If-Match.
CREATE TABLE code_release_rechecks (
    release_id  bigint      PRIMARY KEY REFERENCES code_releases (id) ON DELETE CASCADE,
    started_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    done_at     timestamptz
);
ALTER TABLE work_items ADD COLUMN edits_checked_at timestamptz;
