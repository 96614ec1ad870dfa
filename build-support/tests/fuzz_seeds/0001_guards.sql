-- guard: table_missing("we;ird ""q"" ü")
-- guard: column_missing(billing.invoices.total)
-- guard: unless(SELECT 1 FROM settings WHERE name = 'a;b)')
-- transaction: none
-- on_change: reapply
CREATE TABLE "we;ird ""q"" ü" (id INT, note TEXT DEFAULT 'it''s; fine');
