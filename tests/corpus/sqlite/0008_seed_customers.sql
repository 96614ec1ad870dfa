-- guard: unless(SELECT 1 FROM customers WHERE email = 'seed-customer')
INSERT INTO customers (email) VALUES ('seed-customer');
