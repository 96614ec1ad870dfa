-- The backfill cannot be guarded: the snippet runs once, by the ledger.
ALTER TABLE shipments ADD COLUMN shipped_at DATETIME;
UPDATE shipments SET shipped_at = CURRENT_TIMESTAMP WHERE shipped_at IS NULL;
