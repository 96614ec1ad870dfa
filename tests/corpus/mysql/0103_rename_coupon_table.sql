DROP VIEW coupons_summary;
RENAME TABLE coupons TO promo_codes;
CREATE VIEW promo_codes_summary AS SELECT id, code, percent_off FROM promo_codes;
