-- MariaDB's ADD COLUMN IF NOT EXISTS is not read by the parser: a warning, and since what it
-- changes is unknown, the index after it is not guarded either.
ALTER TABLE payments ADD COLUMN IF NOT EXISTS fee_cents INT NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS payments_fee_idx ON payments (fee_cents);
