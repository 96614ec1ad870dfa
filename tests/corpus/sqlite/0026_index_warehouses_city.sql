CREATE INDEX warehouses_city_idx ON warehouses (city);
