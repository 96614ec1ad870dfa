-- The backfill cannot be guarded: the snippet runs once, by the ledger.
ALTER TABLE reviews ADD COLUMN posted_at TEXT;
UPDATE reviews SET posted_at = CURRENT_TIMESTAMP WHERE posted_at IS NULL;
