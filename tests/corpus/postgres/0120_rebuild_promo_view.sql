-- on_change: reapply
-- Dropped and created again: the CREATE's guard would be read before the DROP runs.
DROP VIEW IF EXISTS promo_codes_summary;
CREATE VIEW promo_codes_summary AS SELECT id, code, percent_off FROM promo_codes;
