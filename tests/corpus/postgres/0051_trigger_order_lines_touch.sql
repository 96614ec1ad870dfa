CREATE TRIGGER order_lines_touch BEFORE UPDATE ON order_lines
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
