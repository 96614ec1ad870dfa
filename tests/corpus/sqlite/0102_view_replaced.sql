-- on_change: reapply
DROP VIEW IF EXISTS promo_codes_summary;
CREATE VIEW promo_codes_summary AS SELECT id, code, percent_off FROM promo_codes;
