-- +goose Up
-- Workbench sessions get an absolute end (CODEBRIDGE_UI_SESSION_MAX, or the
-- expiry of the JWT / OIDC ID token they started from, whichever first) and,
-- when started with a static token, that token's SHA-256 so every request
-- can check it is still configured. Sessions live at upgrade have neither
-- and could not be checked: they are ended, and their users sign in again.

ALTER TABLE ui_sessions
    ADD COLUMN expires_at timestamptz,  -- NULL only on rows ended here
    ADD COLUMN token_hash bytea;        -- sha256 of the static token; NULL for JWT/OIDC sessions

UPDATE ui_sessions SET ended_at = now(), end_reason = 'upgrade' WHERE ended_at IS NULL;
