-- +goose Up
-- The ICD-10-CM Tabular List (system icd10cm-tabular): its chapters,
-- sections and <diag> nodes, each with its parent, and the notes written at
-- each node (inclusionTerm, excludes1, excludes2, codeFirst,
-- useAdditionalCode, codeAlso, notes, sevenChrNote, and the 7th characters
-- of a sevenChrDef). The notes in force for a code are those of its node and
-- of every node above it (codes.NewTabularInstructions). Both tables go with
-- their release (ON DELETE CASCADE), like every code table.
CREATE TABLE code_tabular_nodes (
    release_id   bigint  NOT NULL REFERENCES code_releases (id) ON DELETE CASCADE,
    id           integer NOT NULL,   -- document order, from 1
    parent       integer,            -- NULL for a chapter
    kind         text    NOT NULL,   -- chapter, section, diag
    name         text    NOT NULL,   -- chapter number, section id, code in storage form
    description  text    NOT NULL DEFAULT '',
    leaf         boolean NOT NULL,   -- a diag without subdivisions
    PRIMARY KEY (release_id, id)
);
-- A code's node, found by its longest prefix that is a diag.
CREATE UNIQUE INDEX code_tabular_nodes_code_idx ON code_tabular_nodes (release_id, name) WHERE kind = 'diag';

CREATE TABLE code_tabular_notes (
    release_id   bigint  NOT NULL REFERENCES code_releases (id) ON DELETE CASCADE,
    node_id      integer NOT NULL,
    seq          integer NOT NULL,   -- document order within the node
    kind         text    NOT NULL,   -- the XML element: excludes1, codeFirst, sevenChrDef, ...
    chr          text    NOT NULL DEFAULT '',  -- the 7th character of a sevenChrDef extension
    text         text    NOT NULL,
    PRIMARY KEY (release_id, node_id, seq)
);
