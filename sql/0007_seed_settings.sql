-- guard: unless(SELECT 1 FROM settings WHERE name = 'seeded')
-- One statement, so that the rows and the `seeded` marker commit together on every
-- database (MySQL included, where each statement commits on its own).
INSERT INTO settings (name, value) VALUES
    ('greeting', 'Hello from a self-syncing schema'),
    ('seeded', 'true');
