CREATE INDEX suppliers_contact_email_idx ON suppliers (contact_email);
