-- +goose Up
-- The coder queue: leasable items in queue order, and running leases by
-- expiry, each as a partial index so `next` never scans the whole table.
CREATE INDEX work_items_leasable_idx ON work_items (priority DESC, created_at, id) WHERE status IN ('ready', 'reopened');
CREATE INDEX work_items_lease_expiry_idx ON work_items (lease_expires) WHERE status = 'in_progress';
