CREATE INDEX suppliers_recent_idx ON suppliers (created_at DESC) WHERE country IS NOT NULL;
