-- transaction: none   -- CONCURRENTLY cannot run in a transaction
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS customers_email_lower_key ON customers (lower(email));
