-- The backfill cannot be guarded: the snippet runs once, by the ledger.
ALTER TABLE tickets ADD COLUMN opened_at DATETIME;
UPDATE tickets SET opened_at = CURRENT_TIMESTAMP WHERE opened_at IS NULL;
