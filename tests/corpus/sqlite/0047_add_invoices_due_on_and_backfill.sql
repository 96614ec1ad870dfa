-- The backfill cannot be guarded: the snippet runs once, by the ledger.
ALTER TABLE invoices ADD COLUMN due_on TEXT;
UPDATE invoices SET due_on = '2020-01-01' WHERE due_on IS NULL;
