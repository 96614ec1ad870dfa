ALTER TABLE products ADD COLUMN search tsvector
    GENERATED ALWAYS AS (to_tsvector('simple', coalesce(title, '') || ' ' || coalesce(sku, ''))) STORED;
CREATE INDEX products_search_idx ON products USING gin (search);
