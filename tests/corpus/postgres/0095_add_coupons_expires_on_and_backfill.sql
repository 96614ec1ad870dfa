-- The backfill cannot be guarded: the snippet runs once, by the ledger.
ALTER TABLE coupons ADD COLUMN expires_on DATE;
UPDATE coupons SET expires_on = '2020-01-01' WHERE expires_on IS NULL;
