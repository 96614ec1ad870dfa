-- guard: index_missing(users_email_idx)
CREATE UNIQUE INDEX users_email_idx ON users (email);
