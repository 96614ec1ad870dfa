-- SQLite cannot add a constraint to a table: a unique index enforces it.
CREATE UNIQUE INDEX reviews_rating_key ON reviews (rating);
