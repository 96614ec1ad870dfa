CREATE TRIGGER IF NOT EXISTS payments_touch AFTER UPDATE OF provider ON payments
BEGIN
    UPDATE payments SET updated_at = CURRENT_TIMESTAMP WHERE id = NEW.id;
END;
