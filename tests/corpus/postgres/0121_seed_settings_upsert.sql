CREATE TABLE app_settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO app_settings (name, value) VALUES ('currency', 'EUR'), ('locale', 'fr')
    ON CONFLICT (name) DO NOTHING;
