-- The backfill cannot be guarded: the snippet runs once, by the ledger.
ALTER TABLE suppliers ADD COLUMN country TEXT;
UPDATE suppliers SET country = 'none' WHERE country IS NULL;
