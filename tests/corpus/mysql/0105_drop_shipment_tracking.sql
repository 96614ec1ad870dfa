-- destructive
ALTER TABLE shipments DROP COLUMN tracking;
