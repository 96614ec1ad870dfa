ALTER TABLE suppliers ADD COLUMN contact_email TEXT;
ALTER TABLE suppliers ADD COLUMN updated_at TEXT;
