CREATE INDEX order_lines_unit_cents_idx ON order_lines (unit_cents);
