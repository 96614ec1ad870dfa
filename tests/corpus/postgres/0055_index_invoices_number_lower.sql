-- transaction: none   -- CONCURRENTLY cannot run in a transaction
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS invoices_number_lower_key ON invoices (lower(number));
