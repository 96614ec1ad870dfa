-- The backfill cannot be guarded: the snippet runs once, by the ledger.
ALTER TABLE orders ADD COLUMN placed_at TIMESTAMPTZ;
UPDATE orders SET placed_at = now() WHERE placed_at IS NULL;
