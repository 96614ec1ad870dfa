-- The backfill cannot be guarded: the snippet runs once, by the ledger.
ALTER TABLE payments ADD COLUMN paid_at DATETIME;
UPDATE payments SET paid_at = CURRENT_TIMESTAMP WHERE paid_at IS NULL;
