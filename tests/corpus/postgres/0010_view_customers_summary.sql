CREATE VIEW customers_summary AS
    SELECT id, email, country FROM customers;
