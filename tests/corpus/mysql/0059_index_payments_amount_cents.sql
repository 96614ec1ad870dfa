CREATE INDEX payments_amount_cents_idx ON payments (amount_cents);
