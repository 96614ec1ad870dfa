CREATE TRIGGER IF NOT EXISTS tickets_touch AFTER UPDATE OF subject ON tickets
BEGIN
    UPDATE tickets SET updated_at = CURRENT_TIMESTAMP WHERE id = NEW.id;
END;
