ALTER TABLE coupons RENAME TO promo_codes;
