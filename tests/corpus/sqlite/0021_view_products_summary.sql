CREATE VIEW products_summary AS
    SELECT id, sku, price_cents FROM products;
