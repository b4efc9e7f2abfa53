-- +goose Up
-- Code sets and claim-edit tables: one row per loaded release, and the
-- content of each release. Replacing a release deletes its row; the content
-- goes with it (ON DELETE CASCADE), all in the loading transaction.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE code_releases (
    id           bigserial   PRIMARY KEY,
    system       text        NOT NULL,   -- icd10cm, icd10pcs, hcpcs, cpt, mue, ptp, poaexempt
    version      text        NOT NULL,   -- FY2026, 2025-Oct, 2026Q2 ...
    valid_from   date        NOT NULL,   -- dates of service governed, inclusive
    valid_to     date        NOT NULL,
    loaded_at    timestamptz NOT NULL DEFAULT now(),
    row_count    integer     NOT NULL DEFAULT 0,
    source_name  text        NOT NULL DEFAULT '',
    sha256       bytea       NOT NULL,   -- of the file as loaded: same content is a no-op
    UNIQUE (system, version)
);
CREATE INDEX code_releases_window_idx ON code_releases (system, valid_from DESC, valid_to);

-- Codes of ICD-10-CM, ICD-10-PCS, HCPCS Level II (system hcpcs, and its
-- Level II modifiers as hcpcsmod under the same release) and CPT.
CREATE TABLE code_entries (
    release_id   bigint  NOT NULL REFERENCES code_releases (id) ON DELETE CASCADE,
    system       text    NOT NULL,   -- denormalised from the release (hcpcsmod differs)
    code         text    NOT NULL,   -- storage form: upper case, no dot
    display      text    NOT NULL,   -- display form: J20.9
    billable     boolean NOT NULL,   -- false for ICD-10 headers
    short_title  text    NOT NULL DEFAULT '',
    long_title   text    NOT NULL DEFAULT '',
    valid_from   date,               -- the code's own dates where the format has them (HCPCS)
    valid_to     date,
    action       text    NOT NULL DEFAULT '',
    search       tsvector GENERATED ALWAYS AS
                 (to_tsvector('english', long_title || ' ' || short_title)) STORED,
    PRIMARY KEY (release_id, code)
);
-- Exact lookup of a code across releases (the release in force is joined).
CREATE INDEX code_entries_code_idx ON code_entries (system, code);
-- Prefix search within a release.
CREATE INDEX code_entries_prefix_idx ON code_entries (release_id, code text_pattern_ops);
-- Word search over titles, and trigram similarity for misspellings.
CREATE INDEX code_entries_search_idx ON code_entries USING gin (search);
CREATE INDEX code_entries_trgm_idx ON code_entries USING gin (long_title gin_trgm_ops);

CREATE TABLE code_mues (
    release_id   bigint  NOT NULL REFERENCES code_releases (id) ON DELETE CASCADE,
    code         text    NOT NULL,
    max_units    integer NOT NULL,
    indicator    smallint NOT NULL,   -- MAI 1 line, 2/3 date of service
    rationale    text    NOT NULL DEFAULT '',
    PRIMARY KEY (release_id, code)
);

CREATE TABLE code_ptps (
    release_id    bigint   NOT NULL REFERENCES code_releases (id) ON DELETE CASCADE,
    column1       text     NOT NULL,
    column2       text     NOT NULL,
    prior_to_1996 boolean  NOT NULL DEFAULT false,
    effective     date     NOT NULL,
    deleted       date,               -- NULL for "*"
    modifier      smallint NOT NULL,   -- 0 not allowed, 1 allowed, 9 not applicable
    rationale     text     NOT NULL DEFAULT ''
);
CREATE INDEX code_ptps_pair_idx ON code_ptps (release_id, column1, column2);

CREATE TABLE code_poa_exempt (
    release_id   bigint NOT NULL REFERENCES code_releases (id) ON DELETE CASCADE,
    code         text   NOT NULL,
    title        text   NOT NULL DEFAULT '',
    PRIMARY KEY (release_id, code)
);

