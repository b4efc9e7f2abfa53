-- +goose Up
-- Foundation: the audit log of who did what. Feature tables arrive in later,
-- numbered migrations (resources and work items, outbox, code sets, ...).
CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    principal   text        NOT NULL,
    role        text        NOT NULL,
    action      text        NOT NULL,   -- e.g. read, create, update, lease
    target      text        NOT NULL,   -- a reference such as Encounter/123, never content
    request_id  text        NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_target_idx ON audit_log (target, at);
CREATE INDEX audit_log_principal_idx ON audit_log (principal, at);
