CREATE INDEX IF NOT EXISTS invoices_number_nocase_idx ON invoices (lower(number)) WHERE number <> '';
