-- The backfill cannot be guarded: the snippet runs once, by the ledger.
ALTER TABLE products ADD COLUMN price_cents INTEGER;
UPDATE products SET price_cents = 0 WHERE price_cents IS NULL;
