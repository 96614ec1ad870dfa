ALTER TABLE reviews ADD CONSTRAINT reviews_rating_key UNIQUE (rating);
