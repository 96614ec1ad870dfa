CREATE VIEW reviews_summary AS
    SELECT id, rating, posted_at FROM reviews;
