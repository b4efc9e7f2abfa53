-- +goose Up
-- The audit log (00001) becomes the record of every read of patient data:
-- besides who (principal, role), when (at) and what (target: Type/id read,
-- or the Type searched), it keeps the HTTP method and route template, the
-- version of a version read, the work item, the encounter and patient the
-- read concerns (resolved when the row is written, from the request or the
-- work item, Claim or resource read), the query parameter NAMES (never
-- their values), the outcome status and the request id. Never a body.
--
-- It is append-only: codebridge only inserts, and a trigger refuses UPDATE,
-- DELETE and TRUNCATE. Retention is a DBA's decision, made with the
-- trigger disabled in a maintenance transaction.
ALTER TABLE audit_log
    ADD COLUMN method     text     NOT NULL DEFAULT '',
    ADD COLUMN route      text     NOT NULL DEFAULT '',
    ADD COLUMN version    text     NOT NULL DEFAULT '',
    ADD COLUMN work_item  text     NOT NULL DEFAULT '',
    ADD COLUMN encounter  text     NOT NULL DEFAULT '',   -- Encounter/{id} when known
    ADD COLUMN patient    text     NOT NULL DEFAULT '',   -- Patient/{id} when known
    ADD COLUMN params     text[]   NOT NULL DEFAULT '{}',
    ADD COLUMN status     smallint NOT NULL DEFAULT 0;

-- The admin listing pages newest first by (at, id) under each filter.
DROP INDEX audit_log_target_idx;
DROP INDEX audit_log_principal_idx;
CREATE INDEX audit_log_at_idx ON audit_log (at, id);
CREATE INDEX audit_log_principal_idx ON audit_log (principal, at, id);
CREATE INDEX audit_log_patient_idx ON audit_log (patient, at, id) WHERE patient <> '';
CREATE INDEX audit_log_target_idx ON audit_log (target, at, id) WHERE target <> '';

-- +goose StatementBegin
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END
$$;
-- +goose StatementEnd

CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
