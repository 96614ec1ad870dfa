CREATE TRIGGER IF NOT EXISTS order_lines_touch AFTER UPDATE OF quantity ON order_lines
BEGIN
    UPDATE order_lines SET updated_at = CURRENT_TIMESTAMP WHERE id = NEW.id;
END;
