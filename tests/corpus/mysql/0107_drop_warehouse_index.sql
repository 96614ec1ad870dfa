-- destructive
DROP INDEX warehouses_city_idx ON warehouses;
