-- +goose Up
-- The tabular order of ICD-10-CM/PCS order-file records (the order number
-- of the CMS order file, columns 1-5), so that a stored release can be the
-- base a fiscal year's addenda is applied to (codes load --addenda). NULL
-- for other systems and for releases stored before this migration (their
-- order is unknown; loading the same file again fills it).
ALTER TABLE code_entries ADD COLUMN ord integer;

-- The number of billable codes of a release (entries of the release's own
-- system marked billable: ICD-10 codes valid for HIPAA transactions, not
-- headers; every HCPCS and CPT code; 0 for the MUE, PTP and POA-exempt
-- tables), as codes list and GET /api/v1/codes/releases show it.
ALTER TABLE code_releases ADD COLUMN billable_count integer NOT NULL DEFAULT 0;
UPDATE code_releases r SET billable_count = (
    SELECT count(*) FROM code_entries e WHERE e.release_id = r.id AND e.system = r.system AND e.billable);
