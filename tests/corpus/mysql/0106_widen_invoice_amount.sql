-- destructive
ALTER TABLE invoices MODIFY COLUMN amount_cents BIGINT;
