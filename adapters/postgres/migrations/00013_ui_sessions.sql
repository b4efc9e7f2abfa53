-- +goose Up
-- The coder workbench (/ui/): server-side sessions (only a hash of the
-- session id is stored; the cookie holds the id itself), drafts of the code
-- pane per user and work item, per-user preferences (keyboard shortcuts),
-- and indexes for the worklist's sort orders.

CREATE TABLE ui_sessions (
    id_hash     bytea       PRIMARY KEY,          -- sha256 of the session id
    principal   text        NOT NULL,
    role        text        NOT NULL,
    csrf_token  text        NOT NULL,
    created_at  timestamptz NOT NULL,
    last_seen   timestamptz NOT NULL,
    last_chart  text        NOT NULL DEFAULT '', -- work item id of the chart last opened
    ended_at    timestamptz,                      -- signed out or idle-expired
    end_reason  text        NOT NULL DEFAULT ''
);
CREATE INDEX ui_sessions_principal_idx ON ui_sessions (principal, last_seen DESC);

CREATE TABLE ui_drafts (
    principal     text        NOT NULL,
    work_item_id  text        NOT NULL REFERENCES work_items (id),
    draft         jsonb       NOT NULL,
    saved_at      timestamptz NOT NULL,
    PRIMARY KEY (principal, work_item_id)
);

CREATE TABLE ui_prefs (
    principal   text        PRIMARY KEY,
    prefs       jsonb       NOT NULL,
    updated_at  timestamptz NOT NULL
);

-- Worklist orders: by priority (every status), and by discharge date.
CREATE INDEX work_items_ui_priority_idx ON work_items (priority DESC, created_at, id);
CREATE INDEX work_items_ui_discharge_idx ON work_items ((coalesce(service_end, service_start, created_at)), id);
