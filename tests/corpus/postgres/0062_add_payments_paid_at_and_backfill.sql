-- The backfill cannot be guarded: the snippet runs once, by the ledger.
ALTER TABLE payments ADD COLUMN paid_at TIMESTAMPTZ;
UPDATE payments SET paid_at = now() WHERE paid_at IS NULL;
