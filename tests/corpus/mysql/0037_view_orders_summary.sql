CREATE VIEW orders_summary AS
    SELECT id, status, placed_at FROM orders;
