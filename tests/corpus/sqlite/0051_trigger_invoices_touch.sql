CREATE TRIGGER IF NOT EXISTS invoices_touch AFTER UPDATE OF number ON invoices
BEGIN
    UPDATE invoices SET updated_at = CURRENT_TIMESTAMP WHERE id = NEW.id;
END;
