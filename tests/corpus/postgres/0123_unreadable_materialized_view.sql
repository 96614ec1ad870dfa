-- The parser cannot read WITH NO DATA: the build warns, the snippet runs once.
CREATE MATERIALIZED VIEW customer_countries AS
    SELECT country, count(*) AS customers FROM customers GROUP BY country
    WITH NO DATA;
