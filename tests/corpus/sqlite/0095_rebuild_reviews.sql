-- destructive: SQLite adds a CHECK only by rebuilding the table
-- The usual rebuild: every statement after the DROP reads what the DROP changed, so only the first is guarded.
DROP VIEW reviews_summary;
CREATE TABLE reviews_new (
    id INTEGER PRIMARY KEY,
    product_id INTEGER NOT NULL REFERENCES products (id),
    rating INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
    body TEXT,
    posted_at TEXT,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TEXT
);
INSERT INTO reviews_new (id, product_id, rating, body, posted_at, created_at, updated_at)
    SELECT id, product_id, rating, body, posted_at, created_at, updated_at FROM reviews;
DROP TABLE reviews;
ALTER TABLE reviews_new RENAME TO reviews;
CREATE INDEX reviews_product_idx ON reviews (product_id);
CREATE VIEW reviews_summary AS
    SELECT id, rating, posted_at FROM reviews;
