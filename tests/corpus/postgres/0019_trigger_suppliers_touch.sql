CREATE TRIGGER suppliers_touch BEFORE UPDATE ON suppliers
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
