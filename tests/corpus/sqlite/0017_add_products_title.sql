ALTER TABLE products ADD COLUMN title TEXT;
ALTER TABLE products ADD COLUMN updated_at TEXT;
