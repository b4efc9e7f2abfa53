-- +goose Up
-- QA accuracy records and reporting: the coder's assignment as submitted
-- (kept when an item goes to review), one accuracy row per reviewed item,
-- and the FHIR Communication each physician query is written as.
ALTER TABLE work_items ADD COLUMN coder_codes jsonb;

ALTER TABLE work_item_queries ADD COLUMN communication_id text NOT NULL DEFAULT '';

CREATE TABLE qa_reviews (
    id                  bigserial   PRIMARY KEY,   -- one row per review: a corrected item may be reviewed again
    work_item_id        text        NOT NULL REFERENCES work_items (id),
    coder               text        NOT NULL,
    auditor             text        NOT NULL,
    reviewed_at         timestamptz NOT NULL,
    accurate            boolean     NOT NULL,
    diagnoses_added     integer     NOT NULL DEFAULT 0,
    diagnoses_removed   integer     NOT NULL DEFAULT 0,
    poa_changed         integer     NOT NULL DEFAULT 0,
    resequenced         boolean     NOT NULL DEFAULT false,
    lines_added         integer     NOT NULL DEFAULT 0,
    lines_removed       integer     NOT NULL DEFAULT 0,
    lines_changed       integer     NOT NULL DEFAULT 0,
    procedures_added    integer     NOT NULL DEFAULT 0,
    procedures_removed  integer     NOT NULL DEFAULT 0,
    coder_codes         jsonb       NOT NULL,
    final_codes         jsonb       NOT NULL
);
CREATE INDEX qa_reviews_coder_idx ON qa_reviews (coder, reviewed_at);
CREATE INDEX qa_reviews_item_idx ON qa_reviews (work_item_id, reviewed_at);
CREATE INDEX work_item_history_to_idx ON work_item_history (to_status, at);
