-- guard: constraint_missing(users.users_name_key)
ALTER TABLE users ADD CONSTRAINT users_name_key UNIQUE (name);
