-- The backfill cannot be guarded: the snippet runs once, by the ledger.
ALTER TABLE order_lines ADD COLUMN note TEXT;
UPDATE order_lines SET note = '' WHERE note IS NULL;
