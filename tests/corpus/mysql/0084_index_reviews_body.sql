CREATE INDEX reviews_body_idx ON reviews (body);
