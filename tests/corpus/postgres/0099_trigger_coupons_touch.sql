CREATE TRIGGER coupons_touch BEFORE UPDATE ON coupons
    FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
