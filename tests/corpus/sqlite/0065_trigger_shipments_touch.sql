CREATE TRIGGER IF NOT EXISTS shipments_touch AFTER UPDATE OF carrier ON shipments
BEGIN
    UPDATE shipments SET updated_at = CURRENT_TIMESTAMP WHERE id = NEW.id;
END;
