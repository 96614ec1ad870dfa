CREATE TRIGGER shipments_touch BEFORE UPDATE ON shipments FOR EACH ROW
BEGIN
    IF NEW.carrier <> OLD.carrier THEN
        SET NEW.updated_at = NOW();
    END IF;
END;
