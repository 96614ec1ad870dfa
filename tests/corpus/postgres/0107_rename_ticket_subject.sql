ALTER TABLE tickets RENAME COLUMN subject TO title;
