-- Grow a codebridge database for the growth benchmark (BENCHMARKS.md):
-- clone every stored resource, version, identifier and work item :factor
-- times under new ids (suffix -g<n>, n from :start), so throughput can be measured on a
-- database of ~1,000,000 resources without ingesting them at API speed.
-- Cloned work items are completed, so the straight-through coder and the
-- coders' queue stay as they were. Run with:
--   psql "$CODEBRIDGE_DATABASE_URL" -v start=1 -v factor=33 -f testdata/bench/grow.sql
-- (run again with start past the last n to grow further).
\set ON_ERROR_STOP on
BEGIN;
CREATE TEMP TABLE g AS SELECT generate_series(:start, :start + :factor - 1) AS n;

INSERT INTO resources
SELECT r.type, r.id || '-g' || g.n, r.version, r.last_updated, r.content_hash, r.deleted,
       r.encounter_id || '-g' || g.n, r.patient_id || '-g' || g.n, r.summary
  FROM resources r CROSS JOIN g WHERE r.id NOT LIKE '%-g%';

INSERT INTO resource_versions
SELECT v.type, v.id || '-g' || g.n, v.version, v.last_updated, v.raw
  FROM resource_versions v CROSS JOIN g WHERE v.id NOT LIKE '%-g%';

INSERT INTO resource_identifiers
SELECT i.type, i.system, i.value || '-g' || g.n, i.id || '-g' || g.n
  FROM resource_identifiers i CROSS JOIN g WHERE i.id NOT LIKE '%-g%';

CREATE TEMP TABLE w AS SELECT wi.*, g.n AS grow_n FROM work_items wi CROSS JOIN g WHERE wi.id NOT LIKE '%-g%';
UPDATE w SET id = id || '-g' || grow_n, encounter_id = encounter_id || '-g' || grow_n,
             patient_id = patient_id || '-g' || grow_n, status = 'completed', assignee = '', lease_expires = NULL;
ALTER TABLE w DROP COLUMN grow_n;
INSERT INTO work_items SELECT * FROM w;
COMMIT;
ANALYZE;
SELECT count(*) AS resources FROM resources;
