-- guard: unless(SELECT 1 FROM shipments WHERE carrier = 'seed-shipment')
INSERT INTO shipments (carrier, order_id) VALUES ('seed-shipment', 1);
