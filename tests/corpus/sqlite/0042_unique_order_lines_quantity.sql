-- SQLite cannot add a constraint to a table: a unique index enforces it.
CREATE UNIQUE INDEX order_lines_quantity_key ON order_lines (quantity);
