ALTER TABLE orders ADD COLUMN state order_status NOT NULL DEFAULT 'draft';
CREATE INDEX orders_open_idx ON orders (placed_at) WHERE state IN ('placed', 'paid');
