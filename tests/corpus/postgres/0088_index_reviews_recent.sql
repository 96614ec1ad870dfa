CREATE INDEX reviews_recent_idx ON reviews (created_at DESC) WHERE posted_at IS NOT NULL;
