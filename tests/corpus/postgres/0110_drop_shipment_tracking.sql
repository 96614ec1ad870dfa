-- destructive: tracking numbers moved to the carrier's API
ALTER TABLE shipments DROP COLUMN tracking;
