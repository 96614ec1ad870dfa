-- SQLite cannot add a constraint to a table: a unique index enforces it.
CREATE UNIQUE INDEX customers_email_key ON customers (email);
