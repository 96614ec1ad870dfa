-- The parser cannot read RENAME INDEX: a warning, and the snippet runs once.
ALTER TABLE reviews RENAME INDEX reviews_product_id_idx TO reviews_by_product_idx;
