-- SQLite cannot add a constraint to a table: a unique index enforces it.
CREATE UNIQUE INDEX tickets_subject_key ON tickets (subject);
