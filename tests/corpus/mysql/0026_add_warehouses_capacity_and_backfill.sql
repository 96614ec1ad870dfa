-- The backfill cannot be guarded: the snippet runs once, by the ledger.
ALTER TABLE warehouses ADD COLUMN capacity INT;
UPDATE warehouses SET capacity = 0 WHERE capacity IS NULL;
