ALTER TABLE reviews ADD FULLTEXT INDEX reviews_body_ft (body);
