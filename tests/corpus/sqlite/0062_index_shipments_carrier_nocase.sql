CREATE INDEX IF NOT EXISTS shipments_carrier_nocase_idx ON shipments (lower(carrier)) WHERE carrier <> '';
