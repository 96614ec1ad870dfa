-- The parser cannot read `PRAGMA … = ON`: a warning; the table is still guarded.
PRAGMA foreign_keys = ON;
CREATE TABLE stock_levels (warehouse_id INTEGER NOT NULL REFERENCES warehouses (id), product_id INTEGER NOT NULL REFERENCES products (id), quantity INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (warehouse_id, product_id));
