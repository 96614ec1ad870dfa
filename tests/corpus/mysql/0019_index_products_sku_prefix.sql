ALTER TABLE products ADD INDEX products_sku_prefix_idx (sku(20));
