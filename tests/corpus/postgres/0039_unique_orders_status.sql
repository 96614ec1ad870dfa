ALTER TABLE orders ADD CONSTRAINT orders_status_key UNIQUE (status);
