-- SQLite cannot add a constraint to a table: a unique index enforces it.
CREATE UNIQUE INDEX products_sku_key ON products (sku);
