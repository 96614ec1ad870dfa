CREATE OR REPLACE VIEW warehouses_summary AS
    SELECT id, label, city FROM warehouses WHERE city IS NOT NULL;
