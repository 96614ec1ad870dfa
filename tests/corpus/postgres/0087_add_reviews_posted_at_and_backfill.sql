-- The backfill cannot be guarded: the snippet runs once, by the ledger.
ALTER TABLE reviews ADD COLUMN posted_at TIMESTAMPTZ;
UPDATE reviews SET posted_at = now() WHERE posted_at IS NULL;
