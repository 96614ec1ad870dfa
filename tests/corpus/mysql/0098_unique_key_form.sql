ALTER TABLE warehouses ADD UNIQUE KEY warehouses_label_uk (label);
