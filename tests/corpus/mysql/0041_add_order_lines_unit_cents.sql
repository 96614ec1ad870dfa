ALTER TABLE order_lines ADD COLUMN unit_cents INT;
ALTER TABLE order_lines ADD COLUMN updated_at DATETIME NULL;
