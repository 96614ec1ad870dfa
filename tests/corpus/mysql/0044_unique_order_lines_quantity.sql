ALTER TABLE order_lines ADD CONSTRAINT order_lines_quantity_key UNIQUE (quantity);
