-- destructive
-- transaction: none
DROP INDEX CONCURRENTLY IF EXISTS order_lines_quantity_idx;
