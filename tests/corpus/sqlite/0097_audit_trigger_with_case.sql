-- The trigger's BEGIN … END body holds ';' and a CASE … END: one statement between the other two.
CREATE TABLE audit_events (id INTEGER PRIMARY KEY, table_name TEXT NOT NULL, row_id INTEGER, kind TEXT NOT NULL);
CREATE TRIGGER orders_audit AFTER UPDATE OF status ON orders
WHEN NEW.status <> OLD.status
BEGIN
    INSERT INTO audit_events (table_name, row_id, kind)
    VALUES ('orders', NEW.id, CASE WHEN NEW.status = 'cancelled' THEN 'cancel' ELSE 'change' END);
END;
CREATE INDEX audit_events_row_idx ON audit_events (table_name, row_id);
