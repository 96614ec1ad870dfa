ALTER TABLE shipments ADD CONSTRAINT shipments_carrier_key UNIQUE (carrier);
