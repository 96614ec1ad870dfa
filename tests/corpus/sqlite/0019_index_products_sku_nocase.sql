CREATE INDEX IF NOT EXISTS products_sku_nocase_idx ON products (lower(sku)) WHERE sku <> '';
