-- The backfill cannot be guarded: the snippet runs once, by the ledger.
ALTER TABLE customers ADD COLUMN country TEXT;
UPDATE customers SET country = 'none' WHERE country IS NULL;
