CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW
BEGIN
    IF NEW.status <> OLD.status THEN
        SET NEW.updated_at = NOW();
    END IF;
END;
