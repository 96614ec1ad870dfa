-- SQLite cannot add a constraint to a table: a unique index enforces it.
CREATE UNIQUE INDEX shipments_carrier_key ON shipments (carrier);
