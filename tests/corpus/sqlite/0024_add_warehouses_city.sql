ALTER TABLE warehouses ADD COLUMN city TEXT;
ALTER TABLE warehouses ADD COLUMN updated_at TEXT;
