CREATE TRIGGER suppliers_touch BEFORE UPDATE ON suppliers FOR EACH ROW
BEGIN
    IF NEW.company <> OLD.company THEN
        SET NEW.updated_at = NOW();
    END IF;
END;
