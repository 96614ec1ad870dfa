CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    secret_hash BLOB NOT NULL,
    CONSTRAINT api_keys_hash_key UNIQUE (secret_hash)
) STRICT;
