ALTER TABLE suppliers ADD COLUMN contact_email VARCHAR(255);
ALTER TABLE suppliers ADD COLUMN updated_at DATETIME NULL;
