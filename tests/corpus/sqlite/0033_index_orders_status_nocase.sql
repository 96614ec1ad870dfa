CREATE INDEX IF NOT EXISTS orders_status_nocase_idx ON orders (lower(status)) WHERE status <> '';
