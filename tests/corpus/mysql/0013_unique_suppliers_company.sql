ALTER TABLE suppliers ADD CONSTRAINT suppliers_company_key UNIQUE (company);
