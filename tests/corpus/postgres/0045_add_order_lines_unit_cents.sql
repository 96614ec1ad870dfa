ALTER TABLE order_lines ADD COLUMN unit_cents INTEGER;
ALTER TABLE order_lines ADD COLUMN updated_at TIMESTAMPTZ;
