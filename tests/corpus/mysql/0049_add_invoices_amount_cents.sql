ALTER TABLE invoices ADD COLUMN amount_cents INT;
ALTER TABLE invoices ADD COLUMN updated_at DATETIME NULL;
