ALTER TABLE shipments ADD COLUMN tracking TEXT;
ALTER TABLE shipments ADD COLUMN updated_at TEXT;
