-- SQLite cannot add a constraint to a table: a unique index enforces it.
CREATE UNIQUE INDEX suppliers_company_key ON suppliers (company);
