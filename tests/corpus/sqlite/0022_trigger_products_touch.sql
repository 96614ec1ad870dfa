CREATE TRIGGER IF NOT EXISTS products_touch AFTER UPDATE OF sku ON products
BEGIN
    UPDATE products SET updated_at = CURRENT_TIMESTAMP WHERE id = NEW.id;
END;
