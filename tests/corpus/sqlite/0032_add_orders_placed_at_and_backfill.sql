-- The backfill cannot be guarded: the snippet runs once, by the ledger.
ALTER TABLE orders ADD COLUMN placed_at TEXT;
UPDATE orders SET placed_at = CURRENT_TIMESTAMP WHERE placed_at IS NULL;
