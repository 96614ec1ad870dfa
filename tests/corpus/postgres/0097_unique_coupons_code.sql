ALTER TABLE coupons ADD CONSTRAINT coupons_code_key UNIQUE (code);
