CREATE TRIGGER IF NOT EXISTS reviews_touch AFTER UPDATE OF rating ON reviews
BEGIN
    UPDATE reviews SET updated_at = CURRENT_TIMESTAMP WHERE id = NEW.id;
END;
