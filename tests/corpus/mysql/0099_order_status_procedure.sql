-- The procedure's BEGIN … END body holds ';': it is one statement, split from the index.
CREATE PROCEDURE close_stale_orders(IN days INT)
BEGIN
    DECLARE cutoff DATETIME;
    SET cutoff = NOW() - INTERVAL days DAY;
    UPDATE orders SET status = 'cancelled' WHERE status = 'draft' AND placed_at < cutoff;
END;
CREATE INDEX orders_status_placed_idx ON orders (status, placed_at);
