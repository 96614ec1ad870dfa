-- The backfill cannot be guarded: the snippet runs once, by the ledger.
ALTER TABLE customers ADD COLUMN country VARCHAR(40);
UPDATE customers SET country = 'none' WHERE country IS NULL;
