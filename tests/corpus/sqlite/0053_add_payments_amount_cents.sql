ALTER TABLE payments ADD COLUMN amount_cents INTEGER;
ALTER TABLE payments ADD COLUMN updated_at TEXT;
