-- guard: unless(SELECT 1 FROM orders WHERE status = 'seed-order')
INSERT INTO orders (status, customer_id) VALUES ('seed-order', 1);
