CREATE VIEW invoices_summary AS
    SELECT id, number, due_on FROM invoices;
