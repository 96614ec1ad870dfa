CREATE TRIGGER shipments_touch BEFORE UPDATE ON shipments
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
