-- destructive
DROP INDEX warehouses_label_lower_key;
