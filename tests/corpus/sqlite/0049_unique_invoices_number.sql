-- SQLite cannot add a constraint to a table: a unique index enforces it.
CREATE UNIQUE INDEX invoices_number_key ON invoices (number);
