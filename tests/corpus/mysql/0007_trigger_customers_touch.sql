CREATE TRIGGER customers_touch BEFORE UPDATE ON customers FOR EACH ROW
BEGIN
    IF NEW.email <> OLD.email THEN
        SET NEW.updated_at = NOW();
    END IF;
END;
