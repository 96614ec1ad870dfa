-- The backfill cannot be guarded: the snippet runs once, by the ledger.
ALTER TABLE suppliers ADD COLUMN country VARCHAR(40);
UPDATE suppliers SET country = 'none' WHERE country IS NULL;
