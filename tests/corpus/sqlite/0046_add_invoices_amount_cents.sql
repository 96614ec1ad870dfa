ALTER TABLE invoices ADD COLUMN amount_cents INTEGER;
ALTER TABLE invoices ADD COLUMN updated_at TEXT;
