CREATE TRIGGER IF NOT EXISTS suppliers_touch AFTER UPDATE OF company ON suppliers
BEGIN
    UPDATE suppliers SET updated_at = CURRENT_TIMESTAMP WHERE id = NEW.id;
END;
