CREATE TRIGGER warehouses_touch BEFORE UPDATE ON warehouses
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
