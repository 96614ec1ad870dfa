ALTER TABLE invoices ADD CONSTRAINT invoices_number_key UNIQUE (number);
