ALTER TABLE products ADD CONSTRAINT products_price_cents_check CHECK (price_cents >= 0);
