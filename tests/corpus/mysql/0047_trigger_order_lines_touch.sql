CREATE TRIGGER order_lines_touch BEFORE UPDATE ON order_lines FOR EACH ROW
BEGIN
    IF NEW.quantity <> OLD.quantity THEN
        SET NEW.updated_at = NOW();
    END IF;
END;
