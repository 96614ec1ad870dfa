CREATE TRIGGER tickets_touch BEFORE UPDATE ON tickets FOR EACH ROW
BEGIN
    IF NEW.subject <> OLD.subject THEN
        SET NEW.updated_at = NOW();
    END IF;
END;
