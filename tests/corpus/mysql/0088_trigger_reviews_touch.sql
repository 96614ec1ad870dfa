CREATE TRIGGER reviews_touch BEFORE UPDATE ON reviews FOR EACH ROW
BEGIN
    IF NEW.rating <> OLD.rating THEN
        SET NEW.updated_at = NOW();
    END IF;
END;
