-- guard: index_missing(users_name_key)
-- SQLite cannot add a constraint to an existing table: a unique index enforces the
-- same rule under the same name.
CREATE UNIQUE INDEX users_name_key ON users (name);
