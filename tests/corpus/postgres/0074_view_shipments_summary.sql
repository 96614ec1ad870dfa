CREATE VIEW shipments_summary AS
    SELECT id, carrier, shipped_at FROM shipments;
