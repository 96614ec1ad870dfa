CREATE TRIGGER IF NOT EXISTS warehouses_touch AFTER UPDATE OF label ON warehouses
BEGIN
    UPDATE warehouses SET updated_at = CURRENT_TIMESTAMP WHERE id = NEW.id;
END;
