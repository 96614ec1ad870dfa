CREATE INDEX payments_recent_idx ON payments (created_at DESC) WHERE paid_at IS NOT NULL;
