CREATE VIEW IF NOT EXISTS tickets_summary AS
    SELECT id, subject, priority FROM tickets WHERE priority IS NOT NULL;
