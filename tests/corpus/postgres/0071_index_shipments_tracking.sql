CREATE INDEX shipments_tracking_idx ON shipments (tracking);
