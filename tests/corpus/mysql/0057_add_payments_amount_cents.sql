ALTER TABLE payments ADD COLUMN amount_cents INT;
ALTER TABLE payments ADD COLUMN updated_at DATETIME NULL;
