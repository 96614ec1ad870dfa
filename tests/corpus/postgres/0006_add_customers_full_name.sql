ALTER TABLE customers ADD COLUMN full_name TEXT;
ALTER TABLE customers ADD COLUMN updated_at TIMESTAMPTZ;
