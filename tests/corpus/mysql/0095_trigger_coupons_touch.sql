CREATE TRIGGER coupons_touch BEFORE UPDATE ON coupons FOR EACH ROW
BEGIN
    IF NEW.code <> OLD.code THEN
        SET NEW.updated_at = NOW();
    END IF;
END;
