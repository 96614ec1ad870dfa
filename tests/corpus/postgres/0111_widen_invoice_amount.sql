-- destructive
ALTER TABLE invoices ALTER COLUMN amount_cents TYPE BIGINT;
