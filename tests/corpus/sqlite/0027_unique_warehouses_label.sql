-- SQLite cannot add a constraint to a table: a unique index enforces it.
CREATE UNIQUE INDEX warehouses_label_key ON warehouses (label);
