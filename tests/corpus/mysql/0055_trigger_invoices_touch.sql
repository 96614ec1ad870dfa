CREATE TRIGGER invoices_touch BEFORE UPDATE ON invoices FOR EACH ROW
BEGIN
    IF NEW.number <> OLD.number THEN
        SET NEW.updated_at = NOW();
    END IF;
END;
