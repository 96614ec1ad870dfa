CREATE VIEW IF NOT EXISTS order_lines_summary AS
    SELECT id, quantity, unit_cents FROM order_lines WHERE unit_cents IS NOT NULL;
