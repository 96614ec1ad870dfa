-- SQLite cannot add a constraint to a table: a unique index enforces it.
CREATE UNIQUE INDEX payments_provider_key ON payments (provider);
