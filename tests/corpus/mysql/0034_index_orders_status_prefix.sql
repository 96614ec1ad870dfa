ALTER TABLE orders ADD INDEX orders_status_prefix_idx (status(20));
