CREATE TRIGGER products_touch BEFORE UPDATE ON products FOR EACH ROW
BEGIN
    IF NEW.sku <> OLD.sku THEN
        SET NEW.updated_at = NOW();
    END IF;
END;
