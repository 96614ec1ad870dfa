CREATE TRIGGER warehouses_touch BEFORE UPDATE ON warehouses FOR EACH ROW
BEGIN
    IF NEW.label <> OLD.label THEN
        SET NEW.updated_at = NOW();
    END IF;
END;
