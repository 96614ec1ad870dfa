-- transaction: none   -- CONCURRENTLY cannot run in a transaction
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS warehouses_label_lower_key ON warehouses (lower(label));
