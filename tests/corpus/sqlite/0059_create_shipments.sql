CREATE TABLE shipments (
    id INTEGER PRIMARY KEY,
    carrier TEXT NOT NULL,
    order_id INTEGER NOT NULL,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX shipments_order_id_idx ON shipments (order_id);
