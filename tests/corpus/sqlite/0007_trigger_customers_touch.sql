CREATE TRIGGER IF NOT EXISTS customers_touch AFTER UPDATE OF email ON customers
BEGIN
    UPDATE customers SET updated_at = CURRENT_TIMESTAMP WHERE id = NEW.id;
END;
