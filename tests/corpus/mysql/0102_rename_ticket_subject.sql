-- MySQL views name columns as written: the view is redefined after the rename, so it runs.
ALTER TABLE tickets RENAME COLUMN subject TO title;
CREATE OR REPLACE VIEW tickets_summary AS
    SELECT id, title, priority FROM tickets WHERE priority IS NOT NULL;
