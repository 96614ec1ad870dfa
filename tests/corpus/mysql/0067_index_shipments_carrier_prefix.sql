ALTER TABLE shipments ADD INDEX shipments_carrier_prefix_idx (carrier(20));
