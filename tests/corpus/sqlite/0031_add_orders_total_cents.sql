ALTER TABLE orders ADD COLUMN total_cents INTEGER;
ALTER TABLE orders ADD COLUMN updated_at TEXT;
