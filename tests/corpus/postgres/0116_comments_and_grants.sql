COMMENT ON TABLE orders IS 'One order; lines in order_lines';
ALTER TABLE customers ALTER COLUMN country SET DEFAULT 'FR';
