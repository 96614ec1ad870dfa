ALTER TABLE order_lines ADD COLUMN line_cents INTEGER GENERATED ALWAYS AS (quantity * unit_cents) VIRTUAL;
CREATE INDEX order_lines_line_cents_idx ON order_lines (line_cents);
