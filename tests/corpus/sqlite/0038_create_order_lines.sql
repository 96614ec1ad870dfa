CREATE TABLE order_lines (
    id INTEGER PRIMARY KEY,
    quantity INTEGER NOT NULL,
    order_id INTEGER NOT NULL,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX order_lines_order_id_idx ON order_lines (order_id);
