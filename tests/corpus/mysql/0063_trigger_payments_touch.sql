CREATE TRIGGER payments_touch BEFORE UPDATE ON payments FOR EACH ROW
BEGIN
    IF NEW.provider <> OLD.provider THEN
        SET NEW.updated_at = NOW();
    END IF;
END;
