CREATE INDEX coupons_percent_off_idx ON coupons (percent_off);
