-- SQLite cannot add a constraint to a table: a unique index enforces it.
CREATE UNIQUE INDEX orders_status_key ON orders (status);
