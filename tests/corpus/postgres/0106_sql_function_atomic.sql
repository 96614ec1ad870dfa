-- A BEGIN ATOMIC body holds ';': one statement, and the index after it is split off.
CREATE FUNCTION order_total(o orders) RETURNS bigint LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT coalesce(sum(quantity * unit_cents), 0) FROM order_lines WHERE order_id = o.id;
END;
CREATE INDEX order_lines_quantity_idx ON order_lines (quantity) WHERE quantity > 10;
