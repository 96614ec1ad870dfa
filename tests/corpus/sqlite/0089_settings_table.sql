CREATE TABLE app_settings (
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    CONSTRAINT app_settings_pk PRIMARY KEY (name)
) WITHOUT ROWID;
INSERT OR IGNORE INTO app_settings (name, value) VALUES ('currency', 'EUR'), ('locale', 'fr');
