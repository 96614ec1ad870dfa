CREATE MATERIALIZED VIEW daily_sales AS
    SELECT date_trunc('day', created_at) AS day, count(*) AS orders FROM orders GROUP BY 1;
CREATE UNIQUE INDEX daily_sales_day_key ON daily_sales (day);
