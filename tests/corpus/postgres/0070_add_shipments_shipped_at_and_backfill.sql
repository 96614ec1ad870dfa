-- The backfill cannot be guarded: the snippet runs once, by the ledger.
ALTER TABLE shipments ADD COLUMN shipped_at TIMESTAMPTZ;
UPDATE shipments SET shipped_at = now() WHERE shipped_at IS NULL;
