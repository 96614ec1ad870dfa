-- The backfill cannot be guarded: the snippet runs once, by the ledger.
ALTER TABLE tickets ADD COLUMN opened_at TIMESTAMPTZ;
UPDATE tickets SET opened_at = now() WHERE opened_at IS NULL;
