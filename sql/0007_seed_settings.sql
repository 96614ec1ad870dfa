-- guard: unless(SELECT 1 FROM settings WHERE name = 'seeded')
INSERT INTO settings (name, value) VALUES ('seeded', 'true');
INSERT INTO settings (name, value) VALUES ('greeting', 'Hello from a self-syncing schema');
