CREATE INDEX IF NOT EXISTS customers_email_nocase_idx ON customers (lower(email)) WHERE email <> '';
