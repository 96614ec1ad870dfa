-- SQLite cannot add a constraint to a table: a unique index enforces it.
CREATE UNIQUE INDEX coupons_code_key ON coupons (code);
