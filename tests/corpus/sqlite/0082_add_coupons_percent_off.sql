ALTER TABLE coupons ADD COLUMN percent_off INTEGER;
ALTER TABLE coupons ADD COLUMN updated_at TEXT;
