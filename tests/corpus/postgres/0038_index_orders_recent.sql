CREATE INDEX orders_recent_idx ON orders (created_at DESC) WHERE placed_at IS NOT NULL;
