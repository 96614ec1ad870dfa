ALTER TABLE order_lines ADD COLUMN line_cents BIGINT AS (quantity * unit_cents) STORED;
ALTER TABLE customers ADD COLUMN email_domain VARCHAR(255) AS (SUBSTRING_INDEX(email, '@', -1)) VIRTUAL;
CREATE INDEX customers_email_domain_idx ON customers (email_domain);
