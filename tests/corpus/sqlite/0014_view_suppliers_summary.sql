CREATE VIEW IF NOT EXISTS suppliers_summary AS
    SELECT id, company, contact_email FROM suppliers WHERE contact_email IS NOT NULL;
