CREATE OR REPLACE VIEW coupons_summary AS
    SELECT id, code, percent_off FROM coupons WHERE percent_off IS NOT NULL;
