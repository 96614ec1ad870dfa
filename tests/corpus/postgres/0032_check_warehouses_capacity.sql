ALTER TABLE warehouses ADD CONSTRAINT warehouses_capacity_check CHECK (capacity >= 0);
