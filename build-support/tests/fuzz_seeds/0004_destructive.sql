-- destructive: drops the legacy table
DROP TABLE IF EXISTS legacy;
ALTER TABLE users DROP COLUMN old, ALTER COLUMN a DROP NOT NULL;
TRUNCATE audit;
