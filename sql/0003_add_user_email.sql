-- guard: column_missing(users.email)
ALTER TABLE users ADD COLUMN email VARCHAR(320);
