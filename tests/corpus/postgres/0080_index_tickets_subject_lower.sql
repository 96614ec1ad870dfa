-- transaction: none   -- CONCURRENTLY cannot run in a transaction
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS tickets_subject_lower_key ON tickets (lower(subject));
