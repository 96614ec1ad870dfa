CREATE INDEX IF NOT EXISTS reviews_rating_nocase_idx ON reviews (lower(rating)) WHERE rating <> '';
